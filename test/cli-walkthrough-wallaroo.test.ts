import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { mailsTo } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * Wallaroo's Users API (../shared/seeds/wallaroo-users-api.md), step by
 * step, with `roster` in place of its /users/* endpoints, naming users by
 * email as Wallaroo does. The steps depend on each other and run in order.
 */
describe("walkthrough of Wallaroo's Users API with roster", () => {
  let server: TestServer;
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });
  const newUser = "new.user@wallaroo.example";
  const newPassword = "a new user's passphrase";
  const login = async (password: string) => {
    const access = grpcClient(server, "roster.v1.UserAccess");
    try {
      return await access.call("Authenticate", { user_id_or_email: newUser, password });
    } finally {
      access.close();
    }
  };

  before(async () => {
    server = await startServer();
    for (const email of ["john.hansarick@wallaroo.example", "kilvin.mitchell@wallaroo.example"]) {
      const res = await cli(["users", "invite", email]);
      assert.equal(res.code, 0, res.stderr);
    }
  });
  after(async () => {
    await server.stop();
  });

  it("1. /users/query with {}: every user, with email and state", async () => {
    const res = await cli(["users", "list", "--all", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    const byId = Object.fromEntries(res.json().map((u: { user_id: string }) => [u.user_id, u]));
    assert.equal(byId.johnhansarick.primary_email_address, "john.hansarick@wallaroo.example");
    assert.equal(byId.johnhansarick.state, "STATE_APPROVED");
    assert.ok(byId.admin, "the admin is listed too");
  });

  it("2. /users/query with user_ids: only those users, by id or by email", async () => {
    const res = await cli([
      "users",
      "get",
      "johnhansarick",
      "kilvin.mitchell@wallaroo.example",
      "--all",
      "--output",
      "json",
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      res.json().map((u: { user_id: string }) => u.user_id),
      ["johnhansarick", "kilvinmitchell"],
    );
    const missing = await cli(["users", "get", "johnhansarick", "nobody@wallaroo.example"]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /nobody@wallaroo\.example/);
  });

  it("3. /users/invite with email and password: the user exists at once and is emailed", async () => {
    const res = await cli(["users", "invite", newUser, "--password-stdin", "--output", "json"], {
      input: `${newPassword}\n`,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().primary_email_address, newUser);
    assert.equal(res.json().state, "STATE_APPROVED");
    const signIn = await login(newPassword);
    assert.equal(signIn.user_id, "newuser");
    assert.equal(signIn.password_update_required, true, "changed at the first login");
    const mails = await mailsTo(server, newUser, { count: 1 });
    assert.equal(mails[0]?.subject, "An account was created for you");
    const again = await cli(["users", "invite", newUser]);
    assert.equal(again.code, 5, "an email address in use is an error");
  });

  it("3b. /users/invite without a password: a temporary one, by email, changed at the first login", async () => {
    const res = await cli(["users", "invite", "temp.user@wallaroo.example"]);
    assert.equal(res.code, 0, res.stderr);
    const [mail] = await mailsTo(server, "temp.user@wallaroo.example", { count: 1 });
    assert.match(mail?.text ?? "", /temporary password:\s*\S{8,}/i);
  });

  it("4. /users/deactivate by email: the user can no longer log in", async () => {
    const res = await cli(["users", "deactivate", newUser, "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user.state, "STATE_SUSPENDED");
    await assert.rejects(login(newPassword));
  });

  it("5. /users/activate by email: the user can log in again", async () => {
    const res = await cli(["users", "activate", newUser, "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().state, "STATE_APPROVED");
    assert.equal((await login(newPassword)).user_id, "newuser");
  });
});
