import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/** Arvados' account operations from the CLI: setup/unsetup (activate/deactivate), merge, rename (update_uuid). */
describe("roster users setup, unsetup, merge and rename", () => {
  let server: TestServer;
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("deactivates a user with a reason: SUSPENDED, every token revoked, the record kept", async () => {
    const user = await createUser(server, { userId: "wallaroo", password: "wallaroo password 5" });
    const res = await cli(["users", "deactivate", "wallaroo", "--reason", "left the team"]);
    assert.equal(res.code, 0, res.stderr);
    const { user: after, tokens_revoked: revoked } = res.json();
    assert.equal(after.state, "STATE_SUSPENDED");
    assert.equal(after.state_description, "left the team");
    assert.equal(revoked, "1");
    assert.equal((await cli(["users", "current"], { key: user.key })).code, 6);
    const login = await cli(["login", "wallaroo", "--password-stdin"], { key: null, input: "wallaroo password 5\n" });
    assert.equal(login.code, 6);
  });

  it("activates it again: APPROVED and able to log in, but revoked keys stay revoked", async () => {
    const res = await cli(["users", "activate", "wallaroo"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().state, "STATE_APPROVED");
    const login = await cli(["login", "wallaroo", "--password-stdin"], { key: null, input: "wallaroo password 5\n" });
    assert.equal(login.code, 0, login.stderr);
  });

  it("sets up a requested user and unsets it up under the Arvados names", async () => {
    const created = await cli([
      "users",
      "create",
      "arv-user",
      "--primary-email-address",
      "arv@example.com",
      "--state",
      "requested",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const setup = await cli(["users", "setup", "arv-user"]);
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(setup.json().state, "STATE_APPROVED");
    const unsetup = await cli(["users", "unsetup", "arv-user"]);
    assert.equal(unsetup.code, 0, unsetup.stderr);
    assert.equal(unsetup.json().user.state, "STATE_SUSPENDED");
    assert.equal((await cli(["users", "setup", "nobody-at-all"])).code, 4);
  });

  it("merges an old account into a new one: settings, attributes and keys move; the old one is deleted", async () => {
    const old = await createUser(server, { userId: "old-account", password: "old account password 6" });
    await createUser(server, { userId: "new-account" });
    assert.equal((await cli(["users", "update", "old-account", "--attributes", "lab=north"])).code, 0);
    assert.equal((await cli(["users", "settings", "set", "old-account", "theme", "dark"])).code, 0);

    const refused = await cli(["users", "merge", "old-account", "new-account"]);
    assert.equal(refused.code, 2, "a merge asks first; without a terminal it needs --force");
    assert.match(
      refused.stderr,
      /Merge user old-account into new-account: needs confirmation on a terminal; pass --force/,
    );

    const res = await cli([
      "users",
      "merge",
      "old-account",
      "new-account",
      "--api-keys",
      "move",
      "--redirect",
      "--force",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const merged = res.json();
    assert.equal(merged.user.user_id, "new-account");
    assert.equal(merged.user.attributes.lab, "north");
    assert.equal(merged.api_keys_moved, "1");
    assert.equal(merged.settings_moved, "1");

    assert.equal((await cli(["users", "current"], { key: old.key })).json().user_id, "new-account");
    assert.equal((await cli(["users", "settings", "get", "new-account", "theme"])).json().value, "dark");
    assert.equal((await cli(["users", "get", "old-account"])).code, 4);
    const deleted = await cli(["users", "list", "--deleted", "--merged-into"]);
    assert.ok(deleted.json().some((u: { user_id: string; merged_into: string }) => u.merged_into === "new-account"));

    // --redirect: the old login now yields a token for the new user.
    const login = await cli(["login", "old-account", "--password-stdin"], {
      key: null,
      input: "old account password 6\n",
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.json().user_id, "new-account");
  });

  it("lets a user merge itself into another account it holds, with that account's token on stdin", async () => {
    const old = await createUser(server, { userId: "arv-old" });
    const fresh = await createUser(server, { userId: "arv-new" });
    const denied = await cli(["users", "merge", "arv-old", "arv-new", "--force"], { key: old.key });
    assert.equal(denied.code, 6);
    assert.match(denied.stderr, /NEW_USER_TOKEN_INVALID/);
    const res = await cli(["users", "merge", "arv-old", "arv-new", "--new-user-token-stdin", "--force"], {
      key: old.key,
      input: `${fresh.key}\n`,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user.user_id, "arv-new");
    const restore = await cli(["users", "restore", "arv-old"]);
    assert.equal(restore.code, 5);
    assert.match(restore.stderr, /FAILED_PRECONDITION: user arv-old was merged into arv-new and cannot be restored/);
  });

  it("revokes the old account's keys on a merge with --api-keys revoke", async () => {
    const old = await createUser(server, { userId: "old-two" });
    await createUser(server, { userId: "new-two" });
    const res = await cli(["users", "merge", "old-two", "new-two", "--api-keys", "REVOKE", "--force"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().api_keys_moved, undefined);
    assert.equal((await cli(["users", "current"], { key: old.key })).code, 6);
  });

  it("renames a user: the new id answers, the old one is gone, keys and settings follow", async () => {
    const user = await createUser(server, { userId: "before-name" });
    assert.equal((await cli(["users", "settings", "set", "before-name", "lang", "en"])).code, 0);
    const res = await cli(["users", "rename", "before-name", "after-name"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user_id, "after-name");
    assert.equal((await cli(["users", "get", "before-name"])).code, 4);
    assert.equal((await cli(["users", "current"], { key: user.key })).json().user_id, "after-name");
    assert.equal((await cli(["users", "settings", "get", "after-name", "lang"])).json().value, "en");
  });

  it("refuses to rename onto an id that is taken, even by a deleted user, with exit code 5", async () => {
    const res = await cli(["users", "rename", "after-name", "old-account"]);
    assert.equal(res.code, 5, res.stderr);
    assert.match(res.stderr, /ALREADY_EXISTS/);
  });
});
