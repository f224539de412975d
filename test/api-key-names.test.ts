import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MongoClient, type ObjectId } from "mongodb";
import { type GrpcClient, grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

const { UNAUTHENTICATED, NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS } = grpc.status;

/**
 * API keys by name (Conch): names are unique per user, requests name a key
 * by id or name, and a key can be expired now and stays listed as expired.
 */
describe("API keys by name", () => {
  let server: TestServer;
  let admin: GrpcClient;
  const clients: GrpcClient[] = [];
  const access = (key?: string) => {
    const c = grpcClient(server, "roster.v1.UserAccess", key);
    clients.push(c);
    return c;
  };
  const works = async (key: string) => {
    try {
      await access(key).call("ListRights", {});
      return true;
    } catch (err) {
      assert.equal((err as { code: number }).code, UNAUTHENTICATED);
      return false;
    }
  };

  before(async () => {
    server = await startServer();
    admin = access(server.adminKey);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  it("refuses a second key of the same name for the same user, but not for another user", async () => {
    await createUser(server, { userId: "named-one" });
    await createUser(server, { userId: "named-two" });
    await admin.call("CreateAPIKey", { user_id: "named-one", name: "deploy" });
    await rejectsWith(
      admin.call("CreateAPIKey", { user_id: "named-one", name: "deploy" }),
      ALREADY_EXISTS,
      "API_KEY_NAME_TAKEN",
    );
    await admin.call("CreateAPIKey", { user_id: "named-two", name: "deploy" });
  });

  it("refuses names that have the form of a key id, at creation and on update", async () => {
    const { api_key } = await admin.call("CreateAPIKey", { user_id: "named-one", name: "lookalike" });
    assert.match(api_key.id, /^ak[0-9a-z]{13}$/);
    const err = await rejectsWith(
      admin.call("CreateAPIKey", { user_id: "named-one", name: "ak0123456789abc" }),
      INVALID_ARGUMENT,
    );
    assert.match(err.details, /form of an API key id/);
    await rejectsWith(
      admin.call("UpdateAPIKey", {
        api_key: { user_id: "named-one", id: "lookalike", name: "akzzzzzzzzzzzzz" },
        update_mask: { paths: ["name"] },
      }),
      INVALID_ARGUMENT,
    );
  });

  it("gets, updates and deletes a key by its name as by its id", async () => {
    const { api_key, key } = await admin.call("CreateAPIKey", { user_id: "named-two", name: "ci runner" });
    const byName = await admin.call("GetAPIKey", { user_id: "named-two", id: "ci runner" });
    assert.equal(byName.api_key.id, api_key.id);
    assert.equal((await admin.call("GetAPIKey", { user_id: "named-two", id: api_key.id })).api_key.name, "ci runner");
    const renamed = await admin.call("UpdateAPIKey", {
      api_key: { user_id: "named-two", id: "ci runner", name: "ci" },
      update_mask: { paths: ["name"] },
    });
    assert.equal(renamed.api_key.id, api_key.id);
    await rejectsWith(
      admin.call("UpdateAPIKey", {
        api_key: { user_id: "named-two", id: "ci", name: "deploy" },
        update_mask: { paths: ["name"] },
      }),
      ALREADY_EXISTS,
      "API_KEY_NAME_TAKEN",
    );
    await rejectsWith(
      admin.call("GetAPIKey", { user_id: "named-two", id: "ci runner" }),
      NOT_FOUND,
      "API_KEY_NOT_FOUND",
    );
    await admin.call("DeleteAPIKey", { user_id: "named-two", id: "ci" });
    assert.equal(await works(key), false);
  });

  it("expires a key by name: it stops working at once and stays listed, marked expired", async () => {
    const u = await createUser(server, { userId: "expirer" });
    const me = access(u.key);
    const { key } = await me.call("CreateAPIKey", { name: "old laptop" });
    assert.equal(await works(key), true);
    const before = Date.now();
    const { api_key } = await me.call("ExpireAPIKey", { id: "old laptop" });
    assert.equal(api_key.expired, true);
    assert.ok(Math.abs(Number(api_key.expires_at.seconds) * 1000 - before) < 5_000);
    assert.equal(await works(key), false);
    const { api_keys } = await me.call("ListAPIKeys", {});
    const listed = api_keys.find((k: Message) => k.name === "old laptop");
    assert.equal(listed?.expired, true);
    assert.equal(api_keys.find((k: Message) => k.name === "test key")?.expired, false);
    // Expiring again keeps the first time.
    const again = await me.call("ExpireAPIKey", { id: api_key.id });
    assert.equal(again.api_key.expires_at.seconds, api_key.expires_at.seconds);
  });

  it("takes an expiry of now (as a client's clock reads it), and refuses one long past", async () => {
    const u = await createUser(server, { userId: "clock" });
    const me = access(u.key);
    const { api_key, key } = await me.call("CreateAPIKey", { name: "short lived" });
    const now = { seconds: Math.floor(Date.now() / 1000) - 1, nanos: 0 };
    const updated = await me.call("UpdateAPIKey", {
      api_key: { id: "short lived", expires_at: now },
      update_mask: { paths: ["expires_at"] },
    });
    assert.equal(updated.api_key.id, api_key.id);
    assert.equal(updated.api_key.expired, true);
    assert.equal(await works(key), false);
    const longAgo = { seconds: Math.floor(Date.now() / 1000) - 3600, nanos: 0 };
    await rejectsWith(me.call("CreateAPIKey", { name: "from the past", expires_at: longAgo }), INVALID_ARGUMENT);
  });

  it("answers NOT_FOUND for a name no key of the user has", async () => {
    await rejectsWith(admin.call("ExpireAPIKey", { user_id: "named-one", id: "nothing" }), NOT_FOUND);
    await rejectsWith(admin.call("DeleteAPIKey", { user_id: "named-one", id: "ak0000000000000" }), NOT_FOUND);
  });

  it("moves keys on merge, renaming those whose name the new user already uses", async () => {
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    clients.push(users);
    await createUser(server, { userId: "merge-old" });
    await createUser(server, { userId: "merge-new" });
    const { key } = await admin.call("CreateAPIKey", { user_id: "merge-old", name: "laptop" });
    await admin.call("CreateAPIKey", { user_id: "merge-new", name: "laptop" });
    const res = await users.call("Merge", { old_user_id: "merge-old", new_user_id: "merge-new" });
    assert.equal(res.api_keys_moved, "2");
    const names = (await admin.call("ListAPIKeys", { user_id: "merge-new" })).api_keys.map((k: Message) => k.name);
    assert.deepEqual([...names].sort(), ["laptop", "laptop-2", "test key", "test key-2"]);
    assert.equal(await works(key), true);
  });
});

describe("API key names at start-up", () => {
  it("renames later duplicates of a name, then makes names unique", async () => {
    let server = await startServer();
    await createUser(server, { userId: "legacy" });
    await server.stop();
    const db = new MongoClient(server.mongodbUri);
    try {
      const tokens = db.db().collection("tokens");
      await tokens.dropIndex("user_ref_1_kind_1_name_1");
      const user = await db
        .db()
        .collection("users")
        .findOne({ _id: "legacy" as never });
      const base = Date.now() - 60_000;
      for (const [i, name] of ["dup", "dup", "dup", "dup-2"].entries()) {
        await tokens.insertOne({
          _id: `legacy-hash-${i}` as never,
          key_id: `aklegacy00000${i}`,
          kind: "api_key",
          user_id: "legacy",
          user_ref: user?.ref as ObjectId,
          name,
          rights: ["USER_INFO"],
          created_at: new Date(base + i * 1000),
          expires_at: null,
          last_used_at: null,
          created_by: "admin",
          revision: 1,
        });
      }
      server = await startServer({ mongodbUri: server.mongodbUri, expectBootstrap: false });
      try {
        const names = await tokens
          .find({ user_id: "legacy", name: /^dup/ }, { sort: { created_at: 1 } })
          .map((t) => `${t.key_id}=${t.name}`)
          .toArray();
        assert.deepEqual(names, [
          "aklegacy000000=dup",
          "aklegacy000001=dup-3",
          "aklegacy000002=dup-4",
          "aklegacy000003=dup-2",
        ]);
        const indexes = await tokens.listIndexes().toArray();
        assert.ok(indexes.some((i) => i.name === "user_ref_1_kind_1_name_1" && i.unique));
      } finally {
        await server.stop();
      }
    } finally {
      await db.close();
    }
  });
});
