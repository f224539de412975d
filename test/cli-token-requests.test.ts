import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * REANA's token flows from the CLI: an admin grants a user a key outright;
 * a user asks for one, an admin grants (or denies) it, the user retrieves
 * it once; the admin revokes the keys.
 */
describe("roster users token-requests (REANA)", () => {
  let server: TestServer;
  const password = "reana user password 4";
  const configHome = mkdtempSync(join(tmpdir(), "roster-reana-"));
  /** The requester, logged in with `roster login`. */
  const asUser = (args: string[]) => roster(args, { server, key: null, configHome });
  const asAdmin = (args: string[]) => roster(args, { server });
  let requestId = "";
  let retrievedKey = "";

  before(async () => {
    server = await startServer();
    await createUser(server, { userId: "reana-user", password });
    const login = await roster(["login", "reana-user", "--password-stdin"], {
      server,
      key: null,
      configHome,
      input: `${password}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
  });
  after(async () => {
    await server.stop();
  });

  it("lets an admin grant a user a key outright (token-grant), shown once", async () => {
    const res = await asAdmin(["users", "api-keys", "create", "reana-user", "--name", "granted", "--send-email=false"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().api_key.created_by, "admin");
    const works = await roster(["users", "current"], { server, key: res.json().key });
    assert.equal(works.json().user_id, "reana-user");
  });

  it("creates a pending request with typed flags", async () => {
    const res = await asUser([
      "users",
      "token-requests",
      "create",
      "--name",
      "workflow runner",
      "--rights",
      "user_info",
      "--reason",
      "to run workflows from CI",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const request = res.json();
    assert.equal(request.status, "TOKEN_REQUEST_STATUS_PENDING");
    assert.equal(request.user_id, "reana-user");
    assert.deepEqual(request.rights, ["RIGHT_USER_INFO"]);
    requestId = request.id;
  });

  it("lists the requester's own requests, and every user's pending ones for an admin", async () => {
    const own = await asUser(["users", "token-requests", "list"]);
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual(
      own.json().map((r: { id: string }) => r.id),
      [requestId],
    );
    const pending = await asAdmin(["users", "token-requests", "list", "--all-users", "--status", "pending"]);
    assert.equal(pending.code, 0, pending.stderr);
    assert.ok(pending.json().some((r: { id: string }) => r.id === requestId));
    const got = await asAdmin(["users", "token-requests", "get", requestId]);
    assert.equal(got.json().reason, "to run workflows from CI");
  });

  it("does not let the requester grant their own request", async () => {
    const res = await asUser(["users", "token-requests", "grant", requestId]);
    assert.equal(res.code, 6, res.stderr);
  });

  it("grants a request; the requester sees it granted and retrieves the key, once", async () => {
    const granted = await asAdmin(["users", "token-requests", "grant", requestId, "--note", "approved for CI"]);
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.json().status, "TOKEN_REQUEST_STATUS_GRANTED");
    assert.equal(granted.json().decided_by, "admin");

    const retrieved = await asUser(["users", "token-requests", "retrieve", requestId]);
    assert.equal(retrieved.code, 0, retrieved.stderr);
    const { api_key: apiKey, key } = retrieved.json();
    assert.match(key, /^rst_ak_/);
    assert.equal(apiKey.name, "workflow runner");
    retrievedKey = key;
    const works = await roster(["users", "current"], { server, key });
    assert.equal(works.json().user_id, "reana-user");

    const again = await asUser(["users", "token-requests", "retrieve", requestId]);
    assert.equal(again.code, 5, again.stderr);
    assert.ok(!again.stdout.includes(key));
    const status = await asUser(["users", "token-requests", "get", requestId]);
    assert.equal(status.json().status, "TOKEN_REQUEST_STATUS_RETRIEVED");
  });

  it("denies a request with a note the requester sees", async () => {
    const created = await asUser(["users", "token-requests", "create", "--name", "too much", "--reason", "please"]);
    const id = created.json().id;
    const denied = await asAdmin(["users", "token-requests", "deny", id, "--note", "ask for fewer rights"]);
    assert.equal(denied.code, 0, denied.stderr);
    const seen = await asUser(["users", "token-requests", "get", id]);
    assert.equal(seen.json().status, "TOKEN_REQUEST_STATUS_DENIED");
    assert.equal(seen.json().decision_note, "ask for fewer rights");
    assert.equal((await asUser(["users", "token-requests", "retrieve", id])).code, 5);
  });

  it("lets the admin revoke the user's keys; the login stays", async () => {
    const res = await asAdmin(["users", "tokens", "revoke", "reana-user", "--api-only"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().api_keys_revoked, "3", "the fixture's key, the granted one and the retrieved one");
    assert.equal((await roster(["users", "current"], { server, key: retrievedKey })).code, 6);
    assert.equal((await asUser(["users", "current"])).code, 0);
  });
});
