import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/** `roster users settings get|set|unset|replace` (Conch's settings calls, Arvados' prefs). */
describe("roster users settings", () => {
  let server: TestServer;
  let user: TestUser;
  const cli = (args: string[], key?: string) => roster(["users", "settings", ...args], { server, key });

  before(async () => {
    server = await startServer();
    user = await createUser(server, { userId: "conch-user" });
  });
  after(async () => {
    await server.stop();
  });

  it("sets JSON values: objects, numbers, booleans, null and quoted strings", async () => {
    for (const [key, text, value] of [
      ["theme", '"dark"', "dark"],
      ["size", "12", 12],
      ["beta", "true", true],
      ["nothing", "null", null],
      ["layout", '{"panes":[1,2],"$weird.key":"ok"}', { panes: [1, 2], "$weird.key": "ok" }],
      ["zip", '"01234"', "01234"],
    ] as const) {
      const res = await cli(["set", "conch-user", key, text]);
      assert.equal(res.code, 0, `${key}: ${res.stderr}`);
      assert.deepEqual(res.json().value, value, key);
    }
  });

  it("takes a bare word that is not JSON as a string", async () => {
    const res = await cli(["set", "conch-user", "editor", "vim"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().value, "vim");
    const got = await cli(["get", "conch-user", "editor"]);
    assert.deepEqual(got.json(), { key: "editor", value: "vim" });
  });

  it("gets every setting with the etag when no key is given", async () => {
    const res = await cli(["get", "conch-user"]);
    assert.equal(res.code, 0, res.stderr);
    const { settings, etag } = res.json();
    assert.ok(etag);
    assert.deepEqual(settings, {
      beta: true,
      editor: "vim",
      layout: { panes: [1, 2], "$weird.key": "ok" },
      nothing: null,
      size: 12,
      theme: "dark",
      zip: "01234",
    });
  });

  it("unsets a setting; getting it then exits 4 with SETTING_NOT_FOUND, unless --allow-missing on unset", async () => {
    const res = await cli(["unset", "conch-user", "theme"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "");
    const got = await cli(["get", "conch-user", "theme"]);
    assert.equal(got.code, 4);
    assert.match(got.stderr, /^error: NOT_FOUND: .*\(reason SETTING_NOT_FOUND\)\n$/);
    assert.equal((await cli(["unset", "conch-user", "theme"])).code, 4);
    assert.equal((await cli(["unset", "conch-user", "theme", "--allow-missing"])).code, 0);
  });

  it("replaces all settings, conditionally with --etag", async () => {
    const { etag } = (await cli(["get", "conch-user"])).json();
    const res = await cli(["replace", "conch-user", '{"theme":"light","size":10}', "--etag", etag]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.json().settings, { size: 10, theme: "light" });
    const stale = await cli(["replace", "conch-user", "{}", "--etag", etag]);
    assert.equal(stale.code, 5, stale.stderr);
    assert.match(stale.stderr, /ABORTED/);
    assert.deepEqual((await cli(["get", "conch-user"])).json().settings, { size: 10, theme: "light" });
  });

  it("refuses a replacement that is not a JSON object before sending it, with exit code 2", async () => {
    const res = await cli(["replace", "conch-user", "[1,2]"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /<settings> must be a Struct \(a JSON object/);
  });

  it("refuses a key the server does not allow, with exit code 3", async () => {
    const res = await cli(["set", "conch-user", "$where", "1"]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /INVALID_ARGUMENT/);
  });

  it("lets a user change their own settings but not another's", async () => {
    const own = await cli(["set", "conch-user", "lang", "en"], user.key);
    assert.equal(own.code, 0, own.stderr);
    const other = await cli(["set", "admin", "lang", "en"], user.key);
    assert.equal(other.code, 6);
    assert.match(other.stderr, /PERMISSION_DENIED/);
  });

  it("names the settings of a user who does not exist with exit code 4", async () => {
    const res = await cli(["get", "nobody-here"]);
    assert.equal(res.code, 4, res.stderr);
  });
});
