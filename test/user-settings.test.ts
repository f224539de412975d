import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import {
  connectJson,
  connectReason,
  type GrpcClient,
  grpc,
  grpcClient,
  type Message,
  rejectsWith,
} from "./support/clients.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

const { INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, ABORTED } = grpc.status;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A JSON value as proto-loader wants a google.protobuf.Value. (protobufjs
 * ships the well-known types with camelCase field names, keepCase or not.)
 */
function value(json: Json): Message {
  if (json === null) return { nullValue: "NULL_VALUE" };
  if (typeof json === "number") return { numberValue: json };
  if (typeof json === "string") return { stringValue: json };
  if (typeof json === "boolean") return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map(value) } };
  return { structValue: struct(json) };
}

function struct(json: { [key: string]: Json }): Message {
  return { fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, value(v)])) };
}

/** A google.protobuf.Value as proto-loader returns it, as JSON. */
function json(v: Message): Json {
  switch (v.kind) {
    case "nullValue":
      return null;
    case "numberValue":
    case "stringValue":
    case "boolValue":
      return v[v.kind];
    case "listValue":
      return (v.listValue.values ?? []).map(json);
    case "structValue":
      return object(v.structValue);
    default:
      throw new Error(`not a Value: ${JSON.stringify(v)}`);
  }
}

function object(s: Message): { [key: string]: Json } {
  return Object.fromEntries(Object.entries(s.fields ?? {}).map(([k, v]) => [k, json(v as Message)]));
}

describe("UserSettings", () => {
  let server: TestServer;
  let db: MongoClient;
  let admin: GrpcClient;
  let ada: TestUser;
  let bob: TestUser;
  const clients: GrpcClient[] = [];
  const settings = (key?: string) => {
    const c = grpcClient(server, "roster.v1.UserSettings", key);
    clients.push(c);
    return c;
  };
  const all = async (client: GrpcClient, userId = "") =>
    object((await client.call("List", { user_id: userId })).settings);

  before(async () => {
    server = await startServer();
    db = new MongoClient(server.mongodbUri);
    admin = settings(server.adminKey);
    ada = await createUser(server, { userId: "ada" });
    bob = await createUser(server, { userId: "bob" });
  });
  after(async () => {
    for (const c of clients) c.close();
    await db.close();
    await server.stop();
  });

  it("sets, gets, lists, replaces and deletes one's own settings, values of every JSON kind", async () => {
    const own = settings(ada.key);
    const values: Record<string, Json> = {
      theme: "dark",
      "page-size": 50,
      ratio: 0.25,
      beta: true,
      nothing: null,
      layout: { $left: ["a.b", { "x.y": 1 }], nested: { deeper: [[]] } },
      recent: ["one", 2, false],
    };
    for (const [key, v] of Object.entries(values)) {
      const res = await own.call("Set", { key, value: value(v) });
      assert.equal(res.key, key);
      assert.deepEqual(json(res.value), v);
      assert.ok(res.etag);
    }
    for (const [key, v] of Object.entries(values)) {
      assert.deepEqual(json((await own.call("Get", { key })).value), v);
    }
    const listed = await own.call("List", {});
    assert.deepEqual(object(listed.settings), values);
    assert.deepEqual(Object.keys(listed.settings.fields), Object.keys(values).sort());

    await own.call("Set", { key: "theme", value: value("light") });
    assert.equal(json((await own.call("Get", { user_id: "ada", key: "theme" })).value), "light");

    await own.call("Delete", { key: "beta" });
    await rejectsWith(own.call("Get", { key: "beta" }), NOT_FOUND, "SETTING_NOT_FOUND");

    const replaced = await own.call("Replace", {
      settings: struct({ language: "en", prefs: { "$ok-inside": { "a.b": 1 } } }),
    });
    assert.deepEqual(object(replaced.settings), { language: "en", prefs: { "$ok-inside": { "a.b": 1 } } });
    assert.deepEqual(await all(own), { language: "en", prefs: { "$ok-inside": { "a.b": 1 } } });
    await own.call("Replace", { settings: { fields: {} } });
    assert.deepEqual(await all(own), {});
  });

  it("answers NOT_FOUND for unset keys and unknown users, and deletes a missing key only with allow_missing", async () => {
    const own = settings(bob.key);
    await rejectsWith(own.call("Get", { key: "never-set" }), NOT_FOUND, "SETTING_NOT_FOUND");
    await rejectsWith(own.call("Delete", { key: "never-set" }), NOT_FOUND, "SETTING_NOT_FOUND");
    await own.call("Delete", { key: "never-set", allow_missing: true });
    assert.deepEqual(await all(own), {});
    assert.equal((await own.call("List", {})).etag, "");
    await rejectsWith(admin.call("List", { user_id: "nobody-here" }), NOT_FOUND, "USER_NOT_FOUND");
    await rejectsWith(admin.call("Set", { user_id: "nobody-here", key: "k", value: value(1) }), NOT_FOUND);
  });

  it("refuses bad keys and values with INVALID_ARGUMENT naming the field", async () => {
    const own = settings(bob.key);
    for (const key of ["$set", "a.b", "", "x".repeat(65), "__proto__", "-lead", "sp ace"]) {
      const err = await rejectsWith(own.call("Set", { key, value: value(1) }), INVALID_ARGUMENT);
      assert.match(err.details, /^key: /, key);
    }
    const noValue = await rejectsWith(own.call("Set", { key: "empty" }), INVALID_ARGUMENT);
    assert.match(noValue.details, /^value: /);
    const emptyKind = await rejectsWith(own.call("Set", { key: "empty", value: {} }), INVALID_ARGUMENT);
    assert.match(emptyKind.details, /^value: /);
    let deep: Json = "bottom";
    for (let i = 0; i < 40; i++) deep = [deep];
    assert.match(
      (await rejectsWith(own.call("Set", { key: "deep", value: value(deep) }), INVALID_ARGUMENT)).details,
      /^value: .*32 levels/,
    );
    const big = "x".repeat(17 * 1024);
    assert.match(
      (await rejectsWith(own.call("Set", { key: "big", value: value(big) }), INVALID_ARGUMENT)).details,
      /^value: .*16384 bytes/,
    );
    const replaceErr = await rejectsWith(
      own.call("Replace", { settings: struct({ good: 1, "bad.key": 2, $bad: 3 }) }),
      INVALID_ARGUMENT,
    );
    assert.match(replaceErr.details, /settings\.bad\.key: key must match/);
    assert.match(replaceErr.details, /settings\.\$bad: key must match/);
    assert.deepEqual(await all(own), {}, "nothing of a refused request was stored");
  });

  it("limits a user to 100 settings and 64 KiB of values", async () => {
    const own = settings(bob.key);
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    await own.call("Replace", { settings: struct(hundred) });
    const err = await rejectsWith(own.call("Set", { key: "one-more", value: value(1) }), INVALID_ARGUMENT);
    assert.match(err.details, /^key: a user may have at most 100 settings/);
    await own.call("Set", { key: "k0", value: value("changing an existing key is fine") });
    const tooMany = { ...hundred, k100: 100 };
    assert.match(
      (await rejectsWith(own.call("Replace", { settings: struct(tooMany) }), INVALID_ARGUMENT)).details,
      /^settings: .*100 settings/,
    );

    const chunk = "y".repeat(15 * 1024);
    await own.call("Replace", { settings: struct({ a: chunk, b: chunk, c: chunk, d: chunk }) });
    const full = await rejectsWith(own.call("Set", { key: "e", value: value(chunk) }), INVALID_ARGUMENT);
    assert.match(full.details, /^value: all values together must be at most 65536 bytes/);
    assert.deepEqual(Object.keys(await all(own)), ["a", "b", "c", "d"]);
    await own.call("Replace", { settings: { fields: {} } });
  });

  it("lets users reach only their own settings, and admins everybody's", async () => {
    await settings(ada.key).call("Set", { key: "private", value: value("ada's") });
    const asBob = settings(bob.key);
    await rejectsWith(asBob.call("List", { user_id: "ada" }), PERMISSION_DENIED, "MISSING_RIGHT");
    await rejectsWith(asBob.call("Get", { user_id: "ada", key: "private" }), PERMISSION_DENIED);
    await rejectsWith(asBob.call("Set", { user_id: "ada", key: "x", value: value(1) }), PERMISSION_DENIED);
    await rejectsWith(asBob.call("Replace", { user_id: "ada", settings: { fields: {} } }), PERMISSION_DENIED);
    await rejectsWith(asBob.call("Delete", { user_id: "ada", key: "private" }), PERMISSION_DENIED);

    assert.equal(json((await admin.call("Get", { user_id: "ada", key: "private" })).value), "ada's");
    await admin.call("Set", { user_id: "ada", key: "set-by-admin", value: value(true) });
    assert.deepEqual(await all(settings(ada.key)), { private: "ada's", "set-by-admin": true });

    // A key with USER_INFO alone reads its own settings but cannot change them.
    const readOnly = await createUser(server, { userId: "reader", rights: ["RIGHT_USER_INFO"] });
    const reader = settings(readOnly.key);
    assert.deepEqual(await all(reader), {});
    await rejectsWith(reader.call("Set", { key: "x", value: value(1) }), PERMISSION_DENIED, "MISSING_RIGHT");
    // An admin key with read rights only cannot change others' settings.
    const auditor = await createUser(server, { userId: "auditor", admin: true, rights: ["RIGHT_ADMIN_USERS_READ"] });
    assert.equal(json((await settings(auditor.key).call("Get", { user_id: "ada", key: "private" })).value), "ada's");
    await rejectsWith(settings(auditor.key).call("Delete", { user_id: "ada", key: "private" }), PERMISSION_DENIED);
  });

  it("keeps every one of 20 concurrent sets of different keys of one user", async (t) => {
    const user = await createUser(server, { userId: "busy" });
    const own = settings(user.key);
    const started = performance.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => own.call("Set", { key: `key-${i}`, value: value({ i }) })));
    const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key-${i}`, { i }]));
    assert.deepEqual(await all(own), expected);
    const doc = await db.db().collection("settings").findOne({ user_id: "busy" });
    assert.equal(doc?.revision, 20, "one revision per set");
    t.diagnostic(`20 concurrent sets took ${Math.round(performance.now() - started)} ms`);
  });

  it("makes Replace conditional on the etag from List", async () => {
    const own = settings(bob.key);
    await own.call("Set", { key: "v", value: value(1) });
    const { etag } = await own.call("List", {});
    await own.call("Set", { key: "v", value: value(2) });
    await rejectsWith(own.call("Replace", { settings: struct({ v: 3 }), etag }), ABORTED, "SETTINGS_ETAG_MISMATCH");
    const fresh = (await own.call("List", {})).etag;
    const replaced = await own.call("Replace", { settings: struct({ v: 3 }), etag: fresh });
    assert.notEqual(replaced.etag, fresh);
    assert.deepEqual(await all(own), { v: 3 });
  });

  it("stores settings by the user's incarnation, so a purged and re-created id inherits none", async () => {
    await createUser(server, { userId: "phoenix" });
    await admin.call("Set", { user_id: "phoenix", key: "old-life", value: value("remembered") });
    const stored = await db.db().collection("settings").findOne({ user_id: "phoenix" });
    assert.equal(typeof stored?.values["old-life"], "string", "values are stored as JSON text");
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    clients.push(users);
    await users.call("Purge", { user_id: "phoenix" });
    await createUser(server, { userId: "phoenix" });
    assert.deepEqual(await all(admin, "phoenix"), {});
    await rejectsWith(admin.call("Get", { user_id: "phoenix", key: "old-life" }), NOT_FOUND, "SETTING_NOT_FOUND");
  });

  it("speaks Connect JSON: values are plain JSON", async () => {
    const set = await connectJson(
      server,
      "roster.v1.UserSettings/Set",
      { key: "editor", value: { keymap: "vim", tabs: [2, 4], "a.b": null } },
      { key: ada.key },
    );
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.value, { keymap: "vim", tabs: [2, 4], "a.b": null });
    const listed = await connectJson(server, "roster.v1.UserSettings/List", {}, { key: ada.key });
    assert.deepEqual(listed.body.settings.editor, { keymap: "vim", tabs: [2, 4], "a.b": null });
    const replaced = await connectJson(
      server,
      "roster.v1.UserSettings/Replace",
      { userId: "ada", settings: { a: 1, "no.dots": 2 } },
      { key: ada.key },
    );
    assert.equal(replaced.status, 400);
    assert.equal(connectReason(replaced.body), "INVALID_ARGUMENT");
    const missing = await connectJson(server, "roster.v1.UserSettings/Get", { key: "nope" }, { key: ada.key });
    assert.equal(missing.status, 404);
    assert.equal(connectReason(missing.body), "SETTING_NOT_FOUND");
  });
});
