import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { roster, rosterInTerminal } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

/** `roster` on a terminal: prompts without echo, confirmations, the progress bar. */
describe("roster on a terminal", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  async function canLogIn(userId: string, password: string): Promise<boolean> {
    const access = grpcClient(server, "roster.v1.UserAccess");
    try {
      await access.call("Authenticate", { user_id_or_email: userId, password });
      return true;
    } catch {
      return false;
    } finally {
      access.close();
    }
  }

  it("asks for the password twice without echoing it, and sets it", async () => {
    const password = "typed on the terminal 42";
    const res = await rosterInTerminal(
      ["users", "create", "typed-pw", "--primary-email-address", "typed@example.com"],
      [
        { expect: "Password (empty for none): ", send: `${password}\r` },
        { expect: "Confirm password: ", send: `${password}\r` },
      ],
      { server },
    );
    assert.equal(res.code, 0, res.screen);
    assert.ok(!res.screen.includes(password), `the password was echoed:\n${res.screen}`);
    assert.match(res.screen, /"password_updated_at": "/);
    assert.ok(await canLogIn("typed-pw", password));
  });

  it("refuses passwords that do not match, with exit code 2, and creates nothing", async () => {
    const res = await rosterInTerminal(
      ["users", "create", "mismatch", "--primary-email-address", "mismatch@example.com"],
      [
        { expect: "Password", send: "first password 1\r" },
        { expect: "Confirm", send: "second password 2\r" },
      ],
      { server },
    );
    assert.equal(res.code, 2, res.screen);
    assert.match(res.screen, /error: the passwords do not match/);
    assert.equal((await roster(["users", "get", "mismatch"], { server })).code, 4);
  });

  it("creates a user without a password when both answers are empty", async () => {
    const res = await rosterInTerminal(
      ["users", "create", "empty-pw", "--primary-email-address", "empty@example.com"],
      [
        { expect: "Password", send: "\r" },
        { expect: "Confirm", send: "\r" },
      ],
      { server },
    );
    assert.equal(res.code, 0, res.screen);
    assert.doesNotMatch(res.screen, /password_updated_at/);
  });

  it("asks before purging and keeps the user when the answer is not yes", async () => {
    await roster(["users", "create", "keep-me", "--primary-email-address", "keep@example.com"], { server });
    const res = await rosterInTerminal(["users", "purge", "keep-me"], [{ expect: "[y/N]", send: "n\r" }], {
      server,
    });
    assert.equal(res.code, 1, res.screen);
    assert.match(res.screen, /Purge user keep-me for good\?/);
    assert.match(res.screen, /error: cancelled/);
    assert.equal((await roster(["users", "get", "keep-me"], { server })).code, 0);
  });

  it("purges after a yes", async () => {
    await roster(["users", "create", "purge-me", "--primary-email-address", "purge@example.com"], { server });
    const res = await rosterInTerminal(["users", "purge", "purge-me"], [{ expect: "[y/N]", send: "yes\r" }], {
      server,
    });
    assert.equal(res.code, 0, res.screen);
    assert.equal((await roster(["users", "get", "purge-me"], { server })).code, 4);
  });

  it("shows a progress bar on stderr for --all-pages when stdout is redirected", async () => {
    for (let i = 0; i < 4; i++) {
      await roster(["users", "create", `bar-${i}`, "--primary-email-address", `bar-${i}@example.com`], { server });
    }
    const file = join(mkdtempSync(join(tmpdir(), "roster-bar-")), "users.json");
    const res = await rosterInTerminal(
      ["users", "search", "--id-contains", "bar-", "--all-pages", "--limit", "1"],
      [],
      {
        server,
        stdoutFile: file,
      },
    );
    assert.equal(res.code, 0, res.screen);
    assert.match(res.screen, /█+ 4\/4 users/, res.screen);
    const users = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(
      users.map((u: { user_id: string }) => u.user_id),
      ["bar-0", "bar-1", "bar-2", "bar-3"],
    );
  });

  it("shows no progress bar when stdout is the terminal too", async () => {
    const res = await rosterInTerminal(
      ["users", "search", "--id-contains", "bar-", "--all-pages", "--limit", "1"],
      [],
      {
        server,
      },
    );
    assert.equal(res.code, 0, res.screen);
    assert.doesNotMatch(res.screen, /[█░]/);
    assert.match(res.screen, /"user_id": "bar-3"/);
  });
});
