import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * REANA's "Managing users" page (../shared/seeds/reana-user-management.md),
 * step by step, with `roster` in place of `flask reana-admin`, naming users
 * by email as REANA does. The steps depend on each other and run in order.
 */
describe("walkthrough of REANA's user management with roster", () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "roster-reana-"));
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });
  let johnToken = "";
  let webUserToken = "";

  before(async () => {
    // The admin access token (REANA_ACCESS_TOKEN) is the bootstrap admin's key.
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("1. user-create --email: creates the user by email alone and prints its id, email and access token once", async () => {
    const res = await cli([
      "users",
      "create",
      "--primary-email-address",
      "john.doe@example.org",
      "--create-api-key",
      "--output",
      "table",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const [header, row, ...more] = res.stdout.trim().split("\n");
    assert.match(header ?? "", /^ID\s+EMAIL\s+ACCESS_TOKEN$/, "REANA's columns");
    assert.equal(more.length, 0);
    const [id, email, token] = (row ?? "").split(/\s+/);
    assert.equal(id, "johndoe");
    assert.equal(email, "john.doe@example.org");
    assert.match(token ?? "", /^rst_ak_/);
    johnToken = token as string;
    const me = await cli(["users", "current"], { key: johnToken });
    assert.equal(me.json().user_id, "johndoe", "the access token works");
  });

  it("2. a web user signs up and asks for a token (REANA's web sign-up)", async () => {
    const created = await cli(
      [
        "users",
        "create",
        "--primary-email-address",
        "new.web.user@example.org",
        "--state",
        "requested",
        "--password-stdin",
        "--send-email=false",
      ],
      { input: "a web user's passphrase\n" },
    );
    assert.equal(created.code, 0, created.stderr);
    const access = grpcClient(server, "roster.v1.UserAccess");
    const login = await access.call("Authenticate", {
      user_id_or_email: "new.web.user@example.org",
      password: "a web user's passphrase",
    });
    access.close();
    webUserToken = login.token;
    const asked = await cli(["users", "token-requests", "create", "--name", "reana", "--reason", "to run workflows"], {
      key: webUserToken,
    });
    assert.equal(asked.code, 0, asked.stderr);
  });

  it("3. user-list: each user's email and access-token status (active / requested)", async () => {
    const res = await cli(["users", "list", "--primary-email-address", "--token-status", "--output", "table"]);
    assert.equal(res.code, 0, res.stderr);
    const [header, ...rows] = res.stdout.trim().split("\n");
    assert.match(header ?? "", /^USER_ID\s+PRIMARY_EMAIL_ADDRESS\s+.*TOKEN_STATUS$/);
    const row = (email: string) => rows.find((r) => r.includes(email)) ?? "";
    assert.match(row("john.doe@example.org"), /^johndoe\s.*TOKEN_STATUS_ACTIVE$/);
    assert.match(row("new.web.user@example.org"), /^newwebuser\s.*TOKEN_STATUS_REQUESTED$/);
    assert.ok(!rows.some((r) => r.startsWith("system ")), "the system user is left out");
  });

  it("4. token-grant --email: grants the web user's request, which approves the user and lets the token work", async () => {
    const pending = await cli(["users", "token-requests", "list", "new.web.user@example.org", "--output", "json"]);
    assert.equal(pending.code, 0, pending.stderr);
    const [request] = pending.json();
    assert.equal(request.status, "TOKEN_REQUEST_STATUS_PENDING");
    const granted = await cli(["users", "token-requests", "grant", request.id]);
    assert.equal(granted.code, 0, granted.stderr);
    const key = await cli(["users", "token-requests", "retrieve", request.id, "--output", "json"], {
      key: webUserToken,
    });
    assert.equal(key.code, 0, key.stderr);
    const token = key.json().key as string;
    assert.match(token, /^rst_ak_/);
    const me = await cli(["users", "current", "--state", "--output", "json"], { key: token });
    assert.equal(me.json().user_id, "newwebuser");
    assert.equal(me.json().state, "STATE_APPROVED", "granting approved the user");
    const listed = await cli(["users", "get", "new.web.user@example.org", "--token-status", "--output", "json"]);
    assert.equal(listed.json().token_status, "TOKEN_STATUS_ACTIVE");
  });

  it("5. token-revoke --email: the user's access tokens stop working", async () => {
    const res = await cli(["users", "tokens", "revoke", "john.doe@example.org", "--api-only", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await cli(["users", "current"], { key: johnToken })).code, 6);
    const status = await cli(["users", "get", "john.doe@example.org", "--token-status", "--output", "json"]);
    assert.equal(status.json().token_status, "TOKEN_STATUS_NONE");
  });

  it("6. user-export > myusers.csv, user-import --file myusers.csv: the file reads back, existing users skipped", async () => {
    const file = join(dir, "myusers.csv");
    const exported = await cli(["users", "export", "--output", file]);
    assert.equal(exported.code, 0, exported.stderr);
    const csv = readFileSync(file, "utf8");
    assert.match(csv, /john\.doe@example\.org/);
    assert.match(csv, /new\.web\.user@example\.org/);
    const imported = await cli(["users", "import", "--file", file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /created.*skipped|skipped/);
    const report = imported.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.ok(report.length >= 3);
    assert.ok(report.every((r: { outcome: string }) => r.outcome === "IMPORT_OUTCOME_SKIPPED"));
  });
});
