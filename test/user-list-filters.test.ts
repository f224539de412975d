/**
 * List takes a state filter (Conch's "list all active users"), and the
 * built-in system user stays out of List and Search unless asked for
 * (issue 11, item 7).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { type GrpcClient, grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

describe("List by state, and the system user", () => {
  let server: TestServer;
  let users: GrpcClient;
  before(async () => {
    server = await startServer();
    users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    for (const [id, state] of [
      ["active-one", "STATE_APPROVED"],
      ["active-two", "STATE_APPROVED"],
      ["waiting-one", "STATE_REQUESTED"],
      ["stopped-one", "STATE_SUSPENDED"],
    ]) {
      await users.call("Create", { user: { user_id: id, primary_email_address: `${id}@example.com`, state } });
    }
  });
  after(async () => {
    users.close();
    await server.stop();
  });
  // biome-ignore lint/suspicious/noExplicitAny: a parsed response.
  const ids = (res: any): string[] => res.users.map((u: { user_id: string }) => u.user_id).sort();

  it("lists only the users in the given states", async () => {
    const approved = await users.call("List", { state: ["STATE_APPROVED"] });
    assert.deepEqual(ids(approved), ["active-one", "active-two", "admin"]);
    assert.equal(Number(approved.total_size), 3);
    const either = await users.call("List", { state: ["STATE_REQUESTED", "STATE_SUSPENDED"] });
    assert.deepEqual(ids(either), ["stopped-one", "waiting-one"]);
  });

  it("leaves the system user out of List, Search and the estimated total unless asked for", async () => {
    const all = await users.call("List", {});
    assert.ok(!ids(all).includes("system"));
    assert.equal(Number(all.total_size), all.users.length, "the estimate does not count the system user");
    const exact = await users.call("List", { exact_total: true });
    assert.equal(Number(exact.total_size), all.users.length);
    assert.ok(!ids(await users.call("Search", { id_contains: "sys" })).includes("system"));
    assert.ok(ids(await users.call("List", { include_system: true })).includes("system"));
    assert.ok(ids(await users.call("Search", { id_contains: "sys", include_system: true })).includes("system"));
    const { user } = await users.call("Get", { user_id: "system" });
    assert.equal(user.user_id, "system", "Get still shows it");
  });

  it("lists active users from the CLI: roster users list --state approved", async () => {
    const res = await roster(["users", "list", "--state", "approved", "--output", "json"], { server });
    assert.equal(res.code, 0, res.stderr);
    const listed = JSON.stringify(res.json());
    for (const id of ["active-one", "active-two", "admin"]) assert.match(listed, new RegExp(id));
    for (const id of ["waiting-one", "stopped-one", "system"]) assert.doesNotMatch(listed, new RegExp(`"${id}"`));
  });
});
