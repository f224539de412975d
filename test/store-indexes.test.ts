/**
 * The store's main queries are answered from indexes, on the embedded
 * database (FerretDB with Roster's patch: the SQL plan) and on MongoDB when
 * MONGODB_URI is set (the winning plan). The test runs the store's own
 * functions on a driver that records every command they send, and asks the
 * database to explain each read.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type Document, MongoClient, ObjectId } from "mongodb";
import { createTokensStore } from "../server/store/tokens-store.js";
import type { UserDocument } from "../server/store/user-documents.js";
import { createUsersBulkStore } from "../server/store/users-bulk-store.js";
import { createUsersStore, type UserOrderField } from "../server/store/users-store.js";
import { testDatabaseUri } from "./support/server.js";

const readCommands = new Set(["find", "aggregate", "count"]);

/** Why a plan is not index-backed, or undefined when it is. */
function notIndexed(explained: Document): string | undefined {
  const text = JSON.stringify(explained);
  if (Array.isArray(explained.queryPlanner?.Plan)) {
    // FerretDB (SQLite): every table access must go through an index.
    const lines = explained.queryPlanner.Plan as string[];
    const bad = lines.filter((l) => /detail=SCAN \S+$/.test(l) || /detail=SCAN \S+ USING (?!COVERING)/.test(l));
    if (lines.length === 0) return "no plan";
    return bad.length > 0 ? bad.join("; ") : undefined;
  }
  return text.includes("COLLSCAN") ? "COLLSCAN" : undefined;
}

describe("the store's main queries use indexes", () => {
  let client: MongoClient;
  const sent: Document[] = [];

  before(async () => {
    client = new MongoClient(testDatabaseUri(), { monitorCommands: true });
    client.on("commandStarted", (event) => {
      if (readCommands.has(event.commandName)) sent.push({ ...event.command });
    });
    const db = client.db();
    const users = createUsersStore(db);
    await users.ensureIndexes();
    await createTokensStore(db).ensureIndexes();
    const now = new Date();
    for (let i = 0; i < 50; i++) {
      await users.insert({
        user_id: `u${String(i).padStart(3, "0")}`,
        name: `User ${i}`,
        description: "",
        primary_email_address: `u${i}@example.com`,
        email_key: `u${i}@example.com`,
        primary_email_address_validated_at: null,
        attributes: { team: `t${i % 3}` },
        state: i % 5 === 0 ? "REQUESTED" : "APPROVED",
        state_description: "",
        admin: i === 0,
        require_password_update: false,
        password_hash: null,
        password_updated_at: null,
        created_at: new Date(now.getTime() + i),
        updated_at: now,
        deleted_at: i % 10 === 9 ? now : null,
        created_by: "admin",
      } as Omit<
        UserDocument,
        "_id" | "ref" | "etag" | "revision" | "updated_by" | "merged_into" | "merge_redirect" | "operation"
      >);
    }
  });
  after(async () => {
    await client?.db().dropDatabase();
    await client?.close();
  });

  /** Run `calls`, then explain every read they sent; each must be index-backed. */
  async function assertIndexed(calls: () => Promise<unknown>): Promise<void> {
    sent.length = 0;
    await calls();
    assert.ok(sent.length > 0, "no reads were sent");
    const db = client.db();
    for (const command of sent) {
      const { lsid: _l, $db: _d, $clusterTime: _c, $readPreference: _r, ...plain } = command;
      const explained = await db.command({ explain: plain, verbosity: "queryPlanner" });
      const why = notIndexed(explained);
      assert.equal(why, undefined, `${JSON.stringify(plain)} is not index-backed: ${why}`);
    }
  }

  it("looks users up by id, by email and in batches", async () => {
    const users = createUsersStore(client.db());
    await assertIndexed(async () => {
      await users.get("u007", ["name"]);
      await users.getDocument("u008");
      await users.getDocumentByEmail("U9@example.com");
      await users.getMany(["u001", "u002"], ["u3@example.com"], ["name"]);
    });
  });

  it("pages through users in every order, by page number and by keyset, with estimated totals", async () => {
    const users = createUsersStore(client.db());
    const orders: UserOrderField[] = ["user_id", "name", "primary_email_address", "state", "admin", "created_at"];
    for (const field of orders) {
      for (const descending of [false, true]) {
        await assertIndexed(async () => {
          const first = await users.list({
            filter: { deleted: false },
            order: { field, descending },
            skip: 0,
            limit: 10,
            fields: ["name"],
            count: "estimate",
          });
          const last = first.users.length - 1;
          await users.list({
            filter: { deleted: false },
            order: { field, descending },
            after: { value: first.sortValues[last], userId: first.users[last]?.user_id as string },
            skip: 0,
            limit: 10,
            fields: ["name"],
            count: "none",
          });
          await users.list({
            filter: { deleted: false },
            order: { field, descending },
            skip: 20,
            limit: 10,
            fields: ["name"],
            count: "none",
          });
        });
      }
    }
  });

  it("searches and counts filtered users, and lists deleted ones", async () => {
    const users = createUsersStore(client.db());
    const page = { order: { field: "user_id" as const, descending: false }, skip: 0, limit: 10, fields: [] };
    await assertIndexed(async () => {
      await users.list({ ...page, filter: { deleted: false, nameContains: "user 1" }, count: "exact" });
      await users.list({ ...page, filter: { deleted: false, states: ["REQUESTED"] }, count: "exact" });
      await users.list({ ...page, filter: { deleted: false, admin: true }, count: "exact" });
      await users.list({ ...page, filter: { deleted: false, query: "User", emailContains: "u1" }, count: "exact" });
      await users.list({ ...page, filter: { deleted: true }, count: "exact" });
    });
  });

  it("exports in id order and counts the export", async () => {
    const bulk = createUsersBulkStore(client.db());
    const signal = new AbortController().signal;
    await assertIndexed(async () => {
      await bulk.count({ deleted: false }, "u010", { signal });
      const scan = bulk.scan({
        filter: { deleted: false },
        afterUserId: "u010",
        fields: [],
        passwordHashes: false,
        batchSize: 5,
        signal,
      });
      await scan.next();
      await scan.return(undefined);
      await bulk.findHolders(["u001"], ["u2@example.com"]);
    });
  });

  it("finds a credential by its secret's hash and lists a user's keys", async () => {
    const tokens = createTokensStore(client.db());
    const ref = new ObjectId();
    const hash = randomBytes(32).toString("hex");
    await tokens.insert({
      _id: hash,
      key_id: randomBytes(6).toString("hex"),
      kind: "api_key",
      user_id: "u001",
      user_ref: ref,
      name: "k",
      rights: ["USER_INFO"],
      created_at: new Date(),
      expires_at: null,
      last_used_at: null,
      created_by: "admin",
      revision: 1,
    });
    await assertIndexed(async () => {
      await tokens.findBySecretHash(hash);
      await tokens.list(ref, "api_key", { skip: 0, limit: 10 });
    });
  });
});
