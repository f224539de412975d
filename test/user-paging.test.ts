import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectJson, type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

/** Run `task` for each item, `width` at a time. */
async function pool<T>(items: T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

const stableCount = 2500;
const id = (i: number) => `stable-${String(i).padStart(5, "0")}`;

describe("List and Search paging", () => {
  let server: TestServer;
  let admin: GrpcClient;

  before(async () => {
    server = await startServer();
    admin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    await pool(
      Array.from({ length: stableCount }, (_, i) => i),
      16,
      (i) =>
        admin.call("Create", {
          user: {
            user_id: id(i),
            name: `Stable ${i % 7 === 0 ? "Seven" : "User"} ${i}`,
            primary_email_address: `${id(i)}@example.com`,
            state: i % 5 === 0 ? "STATE_REQUESTED" : "STATE_APPROVED",
            attributes: { team: i % 2 === 0 ? "even" : "odd" },
          },
        }),
    );
  });
  after(async () => {
    admin.close();
    await server.stop();
  });

  it("pages through 2,500 users with page_token while others are inserted and deleted, without duplicates or gaps", async () => {
    const seen: string[] = [];
    let token = "";
    let churn = 0;
    let pages = 0;
    do {
      const res = await admin.call("List", { limit: 100, page_token: token, field_mask: { paths: ["name"] } });
      pages++;
      for (const u of res.users) seen.push(u.user_id);
      token = res.next_page_token;
      // Between pages, users appear and disappear all over the key space.
      await Promise.all(
        [`a-churn-${churn}`, `m-churn-${churn}`, `zz-churn-${churn}`].map((uid) =>
          admin.call("Create", { user: { user_id: uid, primary_email_address: `${uid}@example.com` } }),
        ),
      );
      if (churn > 0) await admin.call("Purge", { user_id: `m-churn-${churn - 1}` });
      churn++;
    } while (token);
    const stable = seen.filter((u) => u.startsWith("stable-"));
    assert.equal(stable.length, stableCount, "every stable user once");
    assert.equal(new Set(stable).size, stableCount, "no duplicates");
    assert.deepEqual(stable, [...stable].sort(), "in order");
    assert.ok(pages >= 26);
  });

  it("pages with limit and 1-based page numbers, with the total in the response and a header", async () => {
    const { response, headers } = await admin.callWithHeaders("List", {
      limit: 10,
      page: 3,
      order: "user_id",
      field_mask: { paths: ["name"] },
    });
    assert.equal(response.users.length, 10);
    const total = Number(response.total_size);
    assert.ok(total >= stableCount);
    assert.equal(headers.get("x-total-count")[0], String(total));
    const page1 = await admin.call("List", { limit: 10, page: 1 });
    const page2 = await admin.call("List", { limit: 10, page: 2 });
    assert.equal(page1.users.at(-1).user_id < page2.users[0].user_id, true);
    assert.equal(page2.users.at(-1).user_id < response.users[0].user_id, true);
  });

  it("defaults the limit to 100, lowers limits above 1000, and refuses negative ones", async () => {
    assert.equal((await admin.call("List", {})).users.length, 100);
    assert.equal((await admin.call("List", { limit: 5000 })).users.length, 1000);
    await rejectsWith(admin.call("List", { limit: -1 }), grpc.status.INVALID_ARGUMENT);
  });

  it("orders by an allowlisted field, descending with a leading -, and pages such orders by token", async () => {
    const byName: string[] = [];
    let token = "";
    do {
      const res = await admin.call("Search", {
        name_contains: "seven",
        order: "-name",
        limit: 50,
        page_token: token,
        field_mask: { paths: ["name"] },
      });
      byName.push(...res.users.map((u: { name: string }) => u.name));
      token = res.next_page_token;
    } while (token);
    const expected = Array.from({ length: stableCount }, (_, i) => i)
      .filter((i) => i % 7 === 0)
      .map((i) => `Stable Seven ${i}`)
      .sort()
      .reverse();
    assert.deepEqual(byName, expected);
    await rejectsWith(admin.call("List", { order: "password_hash" }), grpc.status.INVALID_ARGUMENT, "INVALID_ORDER");
    const byCreated = await admin.call("List", { order: "-created_at", limit: 3, field_mask: { paths: ["name"] } });
    assert.equal(byCreated.users.length, 3);
    assert.ok(
      byCreated.users.every(
        (u: { created_at: unknown; state: string }) => u.created_at && u.state === "STATE_UNSPECIFIED",
      ),
      "the sort field comes back when it is always returned, and only the masked fields besides",
    );
    const byState = await admin.call("List", { order: "state", limit: 3, field_mask: { paths: ["name"] } });
    assert.ok(
      byState.users.every((u: { state: string }) => u.state === "STATE_UNSPECIFIED"),
      "a sort field not asked for stays out",
    );
  });

  it("refuses a tampered page token, and a token used for another query", async () => {
    const { next_page_token: token } = await admin.call("List", { limit: 5 });
    const [body, signature] = token.split(".");
    const payload = JSON.parse(Buffer.from(body, "base64url").toString());
    payload.u = "zzzz";
    const forged = `${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${signature}`;
    await rejectsWith(
      admin.call("List", { limit: 5, page_token: forged }),
      grpc.status.INVALID_ARGUMENT,
      "INVALID_PAGE_TOKEN",
    );
    await rejectsWith(
      admin.call("List", { limit: 5, page_token: "garbage" }),
      grpc.status.INVALID_ARGUMENT,
      "INVALID_PAGE_TOKEN",
    );
    await rejectsWith(
      admin.call("Search", { query: "stable", limit: 5, page_token: token }),
      grpc.status.INVALID_ARGUMENT,
      "INVALID_PAGE_TOKEN",
    );
    await rejectsWith(
      admin.call("List", { limit: 5, order: "-name", page_token: token }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it("searches by query, id, name, email, state, admin and attributes, combined with AND", async () => {
    const total = async (req: Record<string, unknown>) =>
      Number((await admin.call("Search", { ...req, limit: 1 })).total_size);
    assert.equal(await total({ id_contains: "stable-0001" }), 10);
    assert.equal(await total({ query: "STABLE-0001" }), 10, "case-insensitive");
    assert.equal(await total({ name_contains: "seven" }), Math.ceil(stableCount / 7));
    assert.equal(await total({ email_contains: "stable-00002@EXAMPLE" }), 1);
    assert.equal(await total({ id_contains: "stable-", state: ["STATE_REQUESTED"] }), stableCount / 5);
    assert.equal(await total({ id_contains: "stable-", state: ["STATE_REQUESTED", "STATE_APPROVED"] }), stableCount);
    assert.equal(await total({ admin: true }), 1);
    assert.equal(await total({ id_contains: "stable-", attributes_contain: { team: "ODD" } }), stableCount / 2);
    assert.equal(
      await total({ id_contains: "stable-", attributes_contain: { team: "even" }, state: ["STATE_REQUESTED"] }),
      stableCount / 10,
    );
  });

  it("matches search text literally: regex characters are escaped", async () => {
    await admin.call("Create", {
      user: { user_id: "regex-user", name: "a.*b (x) [y] $z ^w \\", primary_email_address: "regex@example.com" },
    });
    const res = await admin.call("Search", { name_contains: ".*b (x) [y] $z ^w \\" });
    assert.deepEqual(
      res.users.map((u: { user_id: string }) => u.user_id),
      ["regex-user"],
    );
    assert.equal(Number((await admin.call("Search", { name_contains: ".*" })).total_size), 1);
    assert.equal(Number((await admin.call("Search", { query: "^stable" })).total_size), 0);
  });

  it("rejects attribute keys that could become query operators", async () => {
    await rejectsWith(admin.call("Search", { attributes_contain: { $where: "1" } }), grpc.status.INVALID_ARGUMENT);
    await rejectsWith(admin.call("Search", { attributes_contain: { "a.b": "1" } }), grpc.status.INVALID_ARGUMENT);
  });

  it("is for admins only, and returns the total over Connect JSON too", async () => {
    const res = await connectJson(
      server,
      "roster.v1.UserRegistry/Search",
      { idContains: "stable-0000", limit: 2 },
      { key: server.adminKey },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-total-count"), "10");
    assert.equal(res.body.totalSize, "10");
    assert.ok(res.body.nextPageToken);
    const anonymous = await connectJson(server, "roster.v1.UserRegistry/List", {});
    assert.equal(anonymous.status, 401);
  });
});
