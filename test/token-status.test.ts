/**
 * REANA's token status in user lists (issue 11, item 4): `token_status` is
 * a computed User field, ACTIVE (a usable API key), REQUESTED (a pending
 * token request) or NONE, returned when the read mask names it, in two
 * queries per page whatever its size.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { ClientPool, type GrpcClient, grpc, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { logLines, startServer, type TestServer } from "./support/server.js";

describe("token status (REANA's user-list)", () => {
  let server: TestServer;
  let users: GrpcClient;
  let access: GrpcClient;
  const clients = new ClientPool();
  const client = (service: string, key?: string) => clients.open(server, service, key);
  before(async () => {
    server = await startServer({ args: ["--log-database-commands"] });
    users = client("roster.v1.UserRegistry", server.adminKey);
    access = client("roster.v1.UserAccess", server.adminKey);
    // ts-active: a key; ts-requested: no key, a pending request; ts-expired:
    // only an expired key; ts-none: nothing; ts-granted: a granted request.
    await createUser(server, { userId: "ts-active" });
    const requested = await createUser(server, { userId: "ts-requested" });
    await client("roster.v1.UserAccess", requested.key).call("CreateTokenRequest", { name: "work", reason: "r" });
    await access.call("DeleteAPIKey", { user_id: "ts-requested", id: "test key" });
    await createUser(server, { userId: "ts-expired" });
    await access.call("ExpireAPIKey", { user_id: "ts-expired", id: "test key" });
    await users.call("Create", { user: { user_id: "ts-none", primary_email_address: "ts-none@example.com" } });
    await users.call("Create", {
      user: { user_id: "ts-granted", primary_email_address: "ts-granted@example.com" },
      password: "a fine passphrase",
      send_email: false,
    });
    const { token } = await client("roster.v1.UserAccess").call("Authenticate", {
      user_id_or_email: "ts-granted",
      password: "a fine passphrase",
    });
    const { token_request: request } = await client("roster.v1.UserAccess", token).call("CreateTokenRequest", {
      name: "work",
      reason: "r",
    });
    await access.call("GrantTokenRequest", { id: request.id });
  });
  after(async () => {
    clients.closeAll();
    await server.stop();
  });

  const expected = {
    "ts-active": "TOKEN_STATUS_ACTIVE",
    "ts-expired": "TOKEN_STATUS_NONE",
    "ts-granted": "TOKEN_STATUS_ACTIVE",
    "ts-none": "TOKEN_STATUS_NONE",
    "ts-requested": "TOKEN_STATUS_REQUESTED",
  };

  it("lists each user's token status when the mask names it", async () => {
    const { users: listed } = await users.call("Search", {
      id_contains: "ts-",
      field_mask: { paths: ["primary_email_address", "token_status"] },
    });
    assert.deepEqual(
      Object.fromEntries(listed.map((u: { user_id: string; token_status: string }) => [u.user_id, u.token_status])),
      expected,
    );
    assert.equal(listed[0].primary_email_address, "ts-active@example.com");
  });

  it("leaves it out of an empty mask, which means every stored field", async () => {
    const { users: listed } = await users.call("List", {});
    assert.ok(listed.length >= 5);
    assert.ok(listed.every((u: { token_status: string }) => u.token_status === "TOKEN_STATUS_UNSPECIFIED"));
  });

  it("computes a page's statuses in one query of tokens and one of token requests, not one per user", async () => {
    const before = server.stdout().length;
    await users.call("List", { field_mask: { paths: ["token_status"] }, limit: 1000 });
    const mine = (collection: string) => (line: Record<string, unknown>) => {
      const db = line.db as { command?: string; collection?: string; projection?: Record<string, number> } | undefined;
      return db?.command === "find" && db.collection === collection && db.projection?.user_ref === 1;
    };
    // Log lines arrive through a pipe, after the answer: wait for both, then a little longer.
    await logLines(server, mine("token_requests"));
    await logLines(server, mine("tokens"));
    await new Promise((r) => setTimeout(r, 500));
    const lines = server
      .stdout()
      .slice(before)
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.filter(mine("tokens")).length, 1);
    assert.equal(lines.filter(mine("token_requests")).length, 1);
  });

  it("answers Get, BatchGet and GetCurrent too; others' status is private", async () => {
    const { user } = await users.call("Get", { user_id: "ts-requested", field_mask: { paths: ["token_status"] } });
    assert.equal(user.token_status, "TOKEN_STATUS_REQUESTED");
    const batch = await users.call("BatchGet", {
      email_addresses: ["ts-none@example.com", "ts-granted@example.com"],
      field_mask: { paths: ["token_status"] },
    });
    assert.deepEqual(
      batch.users.map((u: { token_status: string }) => u.token_status),
      ["TOKEN_STATUS_NONE", "TOKEN_STATUS_ACTIVE"],
    );
    const plain = await createUser(server, { userId: "ts-plain" });
    const asPlain = client("roster.v1.UserRegistry", plain.key);
    const own = await asPlain.call("GetCurrent", { field_mask: { paths: ["token_status"] } });
    assert.equal(own.user.token_status, "TOKEN_STATUS_ACTIVE");
    await rejectsWith(
      asPlain.call("Get", { user_id: "ts-active", field_mask: { paths: ["token_status"] } }),
      grpc.status.PERMISSION_DENIED,
    );
  });

  it("shows REANA's columns from the CLI: roster users list --primary-email-address --token-status", async () => {
    const res = await roster(
      ["users", "search", "--id-contains", "ts-", "--primary-email-address", "--token-status", "--output", "table"],
      { server },
    );
    assert.equal(res.code, 0, res.stderr);
    const header = res.stdout.split("\n")[0] ?? "";
    assert.match(header, /USER_ID\s+.*PRIMARY_EMAIL_ADDRESS\s+.*TOKEN_STATUS/i);
    const row = res.stdout.split("\n").find((l) => l.startsWith("ts-requested")) ?? "";
    assert.match(row, /ts-requested@example\.com\s+.*REQUESTED/);
    const json = await roster(["users", "list", "--token-status", "--output", "json"], { server });
    assert.equal(json.code, 0, json.stderr);
    const byId = Object.fromEntries(
      json.json().map((u: { user_id: string; token_status: string }) => [u.user_id, u.token_status]),
    );
    assert.equal(byId["ts-none"], "TOKEN_STATUS_NONE");
    assert.equal(byId["ts-active"], "TOKEN_STATUS_ACTIVE");
  });
});
