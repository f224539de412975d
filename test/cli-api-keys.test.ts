import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * `roster users api-keys`: UserAccess commands declared in a few lines on
 * the same mechanism as the users commands; they also give the CLI keys
 * with fewer rights, for PERMISSION_DENIED.
 */
describe("roster users api-keys", () => {
  let server: TestServer;
  const cli = (args: string[], key?: string) => roster(args, { server, key });
  let keyId = "";
  let secret = "";

  before(async () => {
    server = await startServer();
    const res = await cli(["users", "create", "keyholder", "--primary-email-address", "keyholder@example.com"]);
    assert.equal(res.code, 0, res.stderr);
  });
  after(async () => {
    await server.stop();
  });

  it("creates a key with typed request flags and prints the whole response, secret included", async () => {
    const res = await cli(["users", "api-keys", "create", "keyholder", "--name", "read only", "--rights", "user_info"]);
    assert.equal(res.code, 0, res.stderr);
    const { api_key: apiKey, key } = res.json();
    assert.match(key, /^rst_ak_/);
    assert.equal(apiKey.name, "read only");
    assert.deepEqual(apiKey.rights, ["RIGHT_USER_INFO"]);
    keyId = apiKey.id;
    secret = key;
  });

  it("lets the key read its own user", async () => {
    const res = await cli(["users", "current", "--primary-email-address"], secret);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().primary_email_address, "keyholder@example.com");
  });

  it("exits 6 with PERMISSION_DENIED when the key lacks the right", async () => {
    const res = await cli(["users", "list"], secret);
    assert.equal(res.code, 6);
    assert.match(
      res.stderr,
      /^error: PERMISSION_DENIED: this call needs the right RIGHT_ADMIN_USERS_READ \(reason MISSING_RIGHT\)\n$/,
    );
  });

  it("lists and gets keys without their secrets", async () => {
    const list = await cli(["users", "api-keys", "list", "keyholder"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      list.json().map((k: { id: string }) => k.id),
      [keyId],
    );
    const got = await cli(["users", "api-keys", "get", "keyholder", keyId]);
    assert.equal(got.json().name, "read only");
    assert.ok(!got.stdout.includes(secret) && !list.stdout.includes(secret));
  });

  it("changes the name and rights given, and only those", async () => {
    const res = await cli(["users", "api-keys", "update", "keyholder", keyId, "--rights", "user_info,user_settings"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.json().rights, ["RIGHT_USER_INFO", "RIGHT_USER_SETTINGS"]);
    assert.equal((await cli(["users", "api-keys", "get", "keyholder", keyId])).json().name, "read only");
  });

  it("hints at the next page of keys from the total alone (the method has no page tokens)", async () => {
    for (const name of ["second", "third"]) {
      assert.equal((await cli(["users", "api-keys", "create", "keyholder", "--name", name])).code, 0);
    }
    const res = await cli(["users", "api-keys", "list", "keyholder", "--limit", "2"]);
    assert.equal(res.json().length, 2);
    assert.equal(res.stderr, "2 of 3 api keys shown; for the next page use --page 2 (--all-pages for every page)\n");
    const all = await cli(["users", "api-keys", "list", "keyholder", "--limit", "2", "--all-pages"]);
    assert.equal(all.json().length, 3);
  });

  it("names a key by its name where it takes an id, as Conch does", async () => {
    const got = await cli(["users", "api-keys", "get", "keyholder", "read only"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.json().id, keyId);
    const taken = await cli(["users", "api-keys", "create", "keyholder", "--name", "second"]);
    assert.equal(taken.code, 5, taken.stderr);
    assert.match(taken.stderr, /ALREADY_EXISTS: user keyholder already has an API key named second/);
  });

  it("expires a key by name now: it stops working and is listed as expired", async () => {
    const created = await cli(["users", "api-keys", "create", "keyholder", "--name", "deploy"]);
    const deploy = created.json().key;
    assert.equal((await cli(["users", "current"], deploy)).code, 0);
    const res = await cli(["users", "api-keys", "expire", "keyholder", "deploy"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().expired, true);
    assert.match((await cli(["users", "current"], deploy)).stderr, /UNAUTHENTICATED/);
    const list = await cli(["users", "api-keys", "list", "keyholder"]);
    const listed = list.json().find((k: { name: string }) => k.name === "deploy");
    assert.equal(listed.expired, true);
    assert.ok(Date.parse(listed.expires_at) <= Date.now());
  });

  it("deletes a key, which stops working at once", async () => {
    const res = await cli(["users", "api-keys", "delete", "keyholder", keyId]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "");
    const after = await cli(["users", "current"], secret);
    assert.equal(after.code, 6);
    assert.match(after.stderr, /UNAUTHENTICATED/);
  });
});
