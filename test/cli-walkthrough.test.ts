import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster, rosterInTerminal } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * The Things Stack's "user management" page, step by step, with `roster`
 * in place of `ttn-lw-cli`. The steps depend on each other and run in order.
 */
describe("walkthrough of The Things Stack's user management with roster", () => {
  let server: TestServer;
  const cli = (args: string[]) => roster(args, { server });

  before(async () => {
    server = await startServer();
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    try {
      for (let i = 0; i < 6; i++) {
        await users.call("Create", {
          user: {
            user_id: `colleague-${i}`,
            primary_email_address: `colleague-${i}@example.com`,
            name: `Colleague ${i}`,
          },
        });
      }
    } finally {
      users.close();
    }
  });
  after(async () => {
    await server.stop();
  });

  it("1. creates new-user with a name and email, the password prompted twice", async () => {
    const res = await rosterInTerminal(
      ["users", "create", "new-user", "--name", "New User", "--primary-email-address", "new-user@example.com"],
      [
        { expect: "Password", send: "a walk in the park 7\r" },
        { expect: "Confirm password", send: "a walk in the park 7\r" },
      ],
      { server },
    );
    assert.equal(res.code, 0, res.screen);
    const json = JSON.parse(res.screen.slice(res.screen.indexOf("{")));
    assert.equal(json.user_id, "new-user");
    assert.equal(json.name, "New User");
    assert.equal(json.primary_email_address, "new-user@example.com");
    assert.ok(json.password_updated_at);
  });

  it("2. lists users with --name --state --admin", async () => {
    const res = await cli(["users", "list", "--name", "--state", "--admin"]);
    assert.equal(res.code, 0, res.stderr);
    const newUser = res.json().find((u: { user_id: string }) => u.user_id === "new-user");
    assert.deepEqual(
      { name: newUser.name, state: newUser.state, admin: newUser.admin },
      { name: "New User", state: "STATE_APPROVED", admin: false },
    );
    assert.ok(res.json().some((u: { user_id: string }) => u.user_id === "colleague-5"));
  });

  it("3. paginates with --limit and --page", async () => {
    const everyone = (await cli(["users", "list", "--all-pages"])).json().map((u: { user_id: string }) => u.user_id);
    const pages = Math.ceil(everyone.length / 3);
    assert.ok(pages >= 3, `${everyone.length} users`);
    const seen: string[] = [];
    for (let page = 1; page <= pages; page++) {
      const res = await cli(["users", "list", "--limit", "3", "--page", String(page)]);
      seen.push(...res.json().map((u: { user_id: string }) => u.user_id));
      if (page === 1) {
        assert.match(res.stderr, new RegExp(`^3 of ${everyone.length} users shown; for the next page use --page 2 `));
      }
      if (page === pages) assert.equal(res.stderr, "", "no hint on the last page");
      else assert.match(res.stderr, new RegExp(`use --page ${page + 1} `));
    }
    assert.deepEqual(seen, everyone, "every user once, in order");
  });

  it("4. searches with --id-contains new --name", async () => {
    const res = await cli(["users", "search", "--id-contains", "new", "--name"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      res.json().map((u: { user_id: string; name: string }) => [u.user_id, u.name]),
      [["new-user", "New User"]],
    );
  });

  it("5. updates --state APPROVED --admin true", async () => {
    const res = await cli(["users", "update", "new-user", "--state", "APPROVED", "--admin", "true"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().state, "STATE_APPROVED");
    assert.equal(res.json().admin, true);
    const check = await cli(["users", "get", "new-user", "--admin"]);
    assert.equal(check.json().admin, true);
  });

  it("6. deletes the user", async () => {
    const res = await cli(["users", "delete", "new-user"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await cli(["users", "get", "new-user"])).code, 4);
  });

  it("7. keeps the id reserved: creating new-user again fails with ALREADY_EXISTS", async () => {
    const res = await cli(["users", "create", "new-user", "--primary-email-address", "someone-else@example.com"]);
    assert.equal(res.code, 5);
    assert.match(res.stderr, /^error: ALREADY_EXISTS: user id new-user is taken/m);
  });
});
