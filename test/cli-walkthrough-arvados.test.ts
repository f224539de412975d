import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * Arvados' users API (../shared/seeds/arvados-users-api.textile), method
 * by method in the document's order, with `roster`: create, current,
 * delete, get, list, system, update, update_uuid, setup, activate (with
 * user agreements), unsetup, merge, authenticate. The steps depend on each
 * other and run in order.
 */
describe("walkthrough of Arvados' users API with roster", () => {
  let server: TestServer;
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });
  /** `roster login` for a user, in a config folder of its own; returns that folder. */
  const configs = new Map<string, string>();
  const loginAs = async (user: string, password: string) => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const configHome = mkdtempSync(join(tmpdir(), `roster-arv-${user}-`));
    const res = await roster(["login", user, "--password-stdin"], {
      server,
      key: null,
      configHome,
      input: `${password}\n`,
    });
    assert.equal(res.code, 0, res.stderr);
    configs.set(user, configHome);
    return configHome;
  };
  const asUser = (user: string, args: string[]) =>
    roster(args, { server, key: null, configHome: configs.get(user) as string });

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("create: a new user's username is derived from the email address", async () => {
    const res = await cli(
      [
        "users",
        "create",
        "--primary-email-address",
        "Ada.Lovelace@example.org",
        "--state",
        "requested",
        "--password-stdin",
        "--output",
        "json",
      ],
      { input: "analytical engine 1843\n" },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user_id, "adalovelace");
    const again = await cli([
      "users",
      "create",
      "--primary-email-address",
      "ada.lovelace@example.net",
      "--output",
      "json",
    ]);
    assert.equal(again.json().user_id, "adalovelace2", "a numeric suffix on collision");
  });

  it("authenticate and current: a password gives a token, which names its user", async () => {
    await loginAs("adalovelace", "analytical engine 1843");
    const me = await asUser("adalovelace", ["users", "current", "--state", "--output", "json"]);
    assert.equal(me.code, 0, me.stderr);
    assert.equal(me.json().user_id, "adalovelace");
    assert.equal(me.json().state, "STATE_REQUESTED", "inactive until set up and activated");
  });

  it("get, list and update", async () => {
    const got = await cli(["users", "get", "adalovelace", "--primary-email-address", "--output", "json"]);
    assert.equal(got.json().primary_email_address, "Ada.Lovelace@example.org");
    const listed = await cli(["users", "list", "--output", "json"]);
    assert.deepEqual(
      listed.json().map((u: { user_id: string }) => u.user_id),
      ["adalovelace", "adalovelace2", "admin"],
    );
    const updated = await cli(["users", "update", "adalovelace", "--name", "Ada Lovelace", "--output", "json"]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.json().name, "Ada Lovelace");
  });

  it("system: the system user is there to read, and left out of lists", async () => {
    const res = await cli(["users", "get", "system", "--all", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user_id, "system");
    const listed = await cli(["users", "list", "--include-system", "--output", "json"]);
    assert.ok(listed.json().some((u: { user_id: string }) => u.user_id === "system"));
  });

  it("update_uuid: changes the id, and the user's login keeps working", async () => {
    const res = await cli(["users", "rename", "adalovelace", "ada", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user_id, "ada");
    const me = await asUser("adalovelace", ["users", "current", "--output", "json"]);
    assert.equal(me.json().user_id, "ada");
  });

  it("setup, then activate by the user once every user agreement is signed", async () => {
    const agreement = await cli([
      "users",
      "agreements",
      "set",
      "terms",
      "--title",
      "Terms",
      "--url",
      "https://example.org/terms",
    ]);
    assert.equal(agreement.code, 0, agreement.stderr);
    const early = await asUser("adalovelace", ["users", "activate"]);
    assert.equal(early.code, 5, "not set up yet");
    assert.match(early.stderr, /USER_NOT_SET_UP|not set up/);
    const setup = await cli(["users", "setup", "ada", "--output", "json"]);
    assert.equal(setup.json().state, "STATE_REQUESTED", "set up; the agreement is still to sign");
    const unsigned = await asUser("adalovelace", ["users", "activate"]);
    assert.equal(unsigned.code, 5);
    assert.match(unsigned.stderr, /terms/);
    const listed = await asUser("adalovelace", ["users", "agreements", "list", "--output", "json"]);
    assert.deepEqual(
      listed.json().map((a: { id: string; accepted_version?: number }) => [a.id, a.accepted_version ?? 0]),
      [["terms", 0]],
    );
    const signed = await asUser("adalovelace", ["users", "agreements", "accept", "terms"]);
    assert.equal(signed.code, 0, signed.stderr);
    const active = await asUser("adalovelace", ["users", "activate", "--output", "json"]);
    assert.equal(active.code, 0, active.stderr);
    assert.equal(active.json().state, "STATE_APPROVED");
  });

  it("merge with new_user_token: the old user merges itself into an account it also holds", async () => {
    await cli(["users", "create", "ada-old", "--primary-email-address", "ada.old@example.org", "--password-stdin"], {
      input: "an old passphrase\n",
    });
    await cli(["users", "settings", "set", "ada-old", "editor", "vim"]);
    await loginAs("ada-old", "an old passphrase");
    const key = await cli([
      "users",
      "api-keys",
      "create",
      "ada",
      "--name",
      "merge",
      "--rights",
      "RIGHT_USER_ALL",
      "--output",
      "json",
    ]);
    assert.equal(key.code, 0, key.stderr);
    const merged = await roster(
      ["users", "merge", "ada-old", "ada", "--new-user-token-stdin", "--redirect", "--force", "--output", "json"],
      { server, key: null, configHome: configs.get("ada-old") as string, input: `${key.json().key}\n` },
    );
    assert.equal(merged.code, 0, merged.stderr);
    const setting = await cli(["users", "settings", "get", "ada", "editor"]);
    assert.match(setting.stdout, /vim/);
    const restored = await cli(["users", "restore", "ada-old"]);
    assert.equal(restored.code, 5, "a merged user cannot be restored");
    const redirected = await roster(["login", "ada-old", "--password-stdin"], {
      server,
      key: null,
      input: "an old passphrase\n",
    });
    assert.equal(redirected.code, 0, "the old login redirects to the new user");
  });

  it("unsetup, then delete", async () => {
    const res = await cli(["users", "unsetup", "ada", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user.state, "STATE_SUSPENDED");
    const again = await asUser("adalovelace", ["users", "current"]);
    assert.equal(again.code, 6, "its tokens were revoked");
    const deleted = await cli(["users", "delete", "ada"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await cli(["users", "get", "ada"])).code, 4);
  });
});
