import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { MongoClient } from "mongodb";
import { type GrpcClient, type GrpcError, grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

const { PERMISSION_DENIED, INVALID_ARGUMENT, UNAUTHENTICATED, DEADLINE_EXCEEDED } = grpc.status;

const day = 86_400;
const timestamp = (seconds: number) => ({ seconds: String(seconds), nanos: 0 });

/** The i-th generated user: every importable field varies with i. */
function row(prefix: string, i: number): Message {
  const id = `${prefix}-${String(i).padStart(6, "0")}`;
  const states = ["STATE_APPROVED", "STATE_REQUESTED", "STATE_FLAGGED", "STATE_SUSPENDED", "STATE_REJECTED"];
  return {
    user: {
      user_id: id,
      name: `Bulk User ${i}`,
      description: i % 3 === 0 ? `imported from the old system (${i})` : "",
      // Mixed case: the stored email keeps its case, uniqueness ignores it.
      primary_email_address: i % 4 === 0 ? `${id.toUpperCase()}@Example.COM` : `${id}@example.com`,
      primary_email_address_validated_at: i % 2 === 0 ? timestamp(1_600_000_000 + i) : undefined,
      attributes: i % 5 === 0 ? {} : { team: `t${i % 7}`, "cost-center": String(i % 11) },
      state: states[i % states.length],
      state_description: i % 5 === 3 ? "under review" : "",
      admin: i % 1000 === 999,
      require_password_update: i % 9 === 0,
      created_at: timestamp(1_500_000_000 + i * 60),
      updated_at: timestamp(1_500_000_000 + i * 60 + day),
    },
  };
}

/** The result of one export stream. */
interface Exported {
  headers: grpc.Metadata;
  totals: string[];
  users: Message[];
  count: number;
  hashes: string[];
}

/**
 * Run UserBulk.Export with grpc-js and collect what it sends. With `keep`
 * false only counts and order are checked, so that the test process itself
 * stays small.
 */
function exportUsers(
  server: TestServer,
  key: string,
  request: Message,
  options: { keep?: boolean; deadlineMs?: number; onMessage?: (m: Message) => void } = {},
): Promise<Exported> {
  const client = grpcClient(server, "roster.v1.UserBulk", key);
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  const result: Exported = { headers: new grpc.Metadata(), totals: [], users: [], count: 0, hashes: [] };
  let last = "";
  return new Promise<Exported>((resolve, reject) => {
    const call = (
      client.raw as unknown as Record<string, (...a: unknown[]) => grpc.ClientReadableStream<Message>>
    ).Export?.call(client.raw, request, metadata, { deadline: Date.now() + (options.deadlineMs ?? 300_000) });
    if (!call) throw new Error("no Export method");
    call.on("metadata", (md) => {
      result.headers = md;
    });
    call.on("data", (message: Message) => {
      options.onMessage?.(message);
      result.totals.push(message.total_size);
      for (const record of message.users) {
        const id = record.user.user_id;
        if (id <= last) reject(new Error(`out of order: ${id} after ${last}`));
        last = id;
        result.count++;
        if (record.password_hash) result.hashes.push(record.password_hash);
        if (options.keep !== false) result.users.push(record);
      }
    });
    call.on("error", (err) => {
      client.close();
      reject(err);
    });
    call.on("end", () => {
      client.close();
      resolve(result);
    });
  });
}

/** Import rows through UserBulk.Import in calls of `batch` rows; the results of every call, joined. */
async function importUsers(
  client: GrpcClient,
  rows: Message[],
  options: { dry_run?: boolean; on_conflict?: string; batch?: number; first_row_number?: number } = {},
): Promise<{ results: Message[]; summary: Record<string, number> }> {
  const batch = options.batch ?? 1000;
  const results: Message[] = [];
  const summary: Record<string, number> = {};
  for (let start = 0; start < rows.length; start += batch) {
    const res = await client.call(
      "Import",
      {
        users: rows.slice(start, start + batch),
        dry_run: options.dry_run ?? false,
        on_conflict: options.on_conflict ?? "IMPORT_CONFLICT_POLICY_UNSPECIFIED",
        first_row_number: (options.first_row_number ?? 1) + start,
      },
      { deadlineMs: 120_000 },
    );
    results.push(...res.results);
    for (const [k, v] of Object.entries(res.summary)) summary[k] = (summary[k] ?? 0) + Number(v);
  }
  return { results, summary };
}

const summaryOf = (counts: Partial<Record<string, number>>) => ({
  rows: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  invalid: 0,
  failed: 0,
  ...counts,
});

/** Resident memory of a process in bytes, from /proc. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Every document of every collection of a database, counted by collection. */
async function documentCounts(db: MongoClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const c of await db.db().listCollections().toArray()) {
    // The audit trail's intents of earlier calls are removed in batches, on their own time.
    if (c.name === "event_intents") continue;
    counts[c.name] = await db.db().collection(c.name).countDocuments({});
  }
  return counts;
}

describe("UserBulk", () => {
  // FerretDB scans a whole collection for nearly every query, so the tests
  // that need many users (source, target) are kept apart from those that
  // need few (small), which then stay fast.
  let source: TestServer;
  let target: TestServer;
  let small: TestServer;
  let targetDb: MongoClient;
  let smallDb: MongoClient;
  let sourceBulk: GrpcClient;
  let targetBulk: GrpcClient;
  let smallBulk: GrpcClient;
  const seeded = 10_000;
  /** The source's export in the round trip. */
  let exported: Exported;

  before(async () => {
    [source, target, small] = await Promise.all([startServer(), startServer(), startServer()]);
    targetDb = new MongoClient(target.mongodbUri);
    smallDb = new MongoClient(small.mongodbUri);
    sourceBulk = grpcClient(source, "roster.v1.UserBulk", source.adminKey);
    targetBulk = grpcClient(target, "roster.v1.UserBulk", target.adminKey);
    smallBulk = grpcClient(small, "roster.v1.UserBulk", small.adminKey);
  });
  after(async () => {
    for (const c of [sourceBulk, targetBulk, smallBulk]) c.close();
    await targetDb.close();
    await smallDb.close();
    await Promise.all([source.stop(), target.stop(), small.stop()]);
  });

  it("round-trips 10,000 users through export and import into a fresh database, field by field", async (t) => {
    const started = performance.now();
    const seed = await importUsers(
      sourceBulk,
      Array.from({ length: seeded }, (_, i) => row("bulk", i)),
    );
    assert.deepEqual(seed.summary, summaryOf({ rows: seeded, created: seeded }));
    const seededAt = performance.now();

    exported = await exportUsers(source, source.adminKey, {});
    // Everybody but the built-in system user: the seeded users and the bootstrap admin.
    assert.equal(exported.count, seeded + 1);
    assert.equal(exported.totals[0], String(seeded + 1));
    assert.equal(exported.headers.get("x-total-count")[0], String(seeded + 1));
    const exportedAt = performance.now();

    const imported = await importUsers(targetBulk, exported.users);
    // The target has its own `admin`, which the row for the source's admin does not touch.
    assert.deepEqual(imported.summary, summaryOf({ rows: seeded + 1, created: seeded, skipped: 1 }));
    assert.deepEqual(
      imported.results.filter((r) => r.outcome !== "IMPORT_OUTCOME_CREATED").map((r) => [r.user_id, r.outcome]),
      [["admin", "IMPORT_OUTCOME_SKIPPED"]],
    );
    const importedAt = performance.now();

    const back = await exportUsers(target, target.adminKey, { id_contains: "bulk-" });
    assert.equal(back.count, seeded);
    const original = new Map(exported.users.map((r) => [r.user.user_id, r]));
    let compared = 0;
    for (const record of back.users) {
      const before = original.get(record.user.user_id);
      assert.ok(before, record.user.user_id);
      // Every field, created_at and updated_at included; only the etag is each database's own.
      assert.deepEqual({ ...record.user, etag: "" }, { ...before.user, etag: "" });
      compared++;
    }
    assert.equal(compared, seeded);
    // Spot-check the generator's variety survived.
    const sample = back.users.find((r) => r.user.user_id === "bulk-000004")?.user;
    assert.equal(sample?.primary_email_address, "BULK-000004@Example.COM");
    assert.equal(sample?.state, "STATE_REJECTED");
    assert.equal(sample?.created_at.seconds, String(1_500_000_000 + 4 * 60));

    t.diagnostic(
      `seed 10k by Import ${Math.round(seededAt - started)} ms, export ${Math.round(exportedAt - seededAt)} ms, ` +
        `import into a fresh database ${Math.round(importedAt - exportedAt)} ms`,
    );
  });

  it("reports every row of a second import skipped, and with on_conflict=update unchanged, without touching the users", async (t) => {
    const started = performance.now();
    const rows = exported.users;
    const versions = async () =>
      (
        await targetDb
          .db()
          .collection("users")
          .find({}, { projection: { etag: 1, revision: 1 } })
          .toArray()
      )
        .map((d) => `${d._id} ${d.etag} ${d.revision}`)
        .sort();
    const before = await versions();
    const again = await importUsers(targetBulk, rows);
    assert.deepEqual(again.summary, summaryOf({ rows: seeded + 1, skipped: seeded + 1 }));
    assert.ok(again.results.every((r) => r.reason === "the user exists"));
    const skippedAt = performance.now();
    // Idempotent under the other policies too (on a slice: on FerretDB each call scans the users).
    const slice = rows.filter((r) => r.user.user_id.startsWith("bulk-")).slice(0, 1000);
    const updated = await importUsers(targetBulk, slice, { on_conflict: "IMPORT_CONFLICT_POLICY_UPDATE" });
    assert.deepEqual(updated.summary, summaryOf({ rows: 1000, unchanged: 1000 }));
    const failing = await importUsers(targetBulk, slice, { on_conflict: "IMPORT_CONFLICT_POLICY_FAIL" });
    assert.deepEqual(failing.summary, summaryOf({ rows: 1000, unchanged: 1000 }));
    assert.deepEqual(await versions(), before, "no etag or revision changed");
    t.diagnostic(`second import of ${seeded + 1} rows, all skipped: ${Math.round(skippedAt - started)} ms`);
  });

  it("updates differing users with on_conflict=update, fails them with fail, and skips them by default", async () => {
    const bulk = smallBulk;
    const rows = [row("change", 1), row("change", 2), row("change", 3)];
    await importUsers(bulk, rows);
    const changed = rows.map((r, i) => ({
      ...r,
      user: { ...r.user, name: `Renamed ${i}`, attributes: { new: "yes" } },
    }));

    const skipped = await importUsers(bulk, changed);
    assert.deepEqual(skipped.summary, summaryOf({ rows: 3, skipped: 3 }));
    assert.match(skipped.results[0].reason, /differs from the row; left as it is/);
    const failed = await importUsers(bulk, changed, { on_conflict: "IMPORT_CONFLICT_POLICY_FAIL" });
    assert.deepEqual(failed.summary, summaryOf({ rows: 3, failed: 3 }));
    assert.equal(failed.results[0].error_reason, "USER_EXISTS");
    const dry = await importUsers(bulk, changed, { on_conflict: "IMPORT_CONFLICT_POLICY_UPDATE", dry_run: true });
    assert.deepEqual(dry.summary, summaryOf({ rows: 3, updated: 3 }));
    assert.equal(
      (
        await smallDb
          .db()
          .collection("users")
          .findOne({ _id: "change-000001" as never })
      )?.name,
      "Bulk User 1",
    );

    const updated = await importUsers(bulk, changed, { on_conflict: "IMPORT_CONFLICT_POLICY_UPDATE" });
    assert.deepEqual(updated.summary, summaryOf({ rows: 3, updated: 3 }));
    const doc = await smallDb
      .db()
      .collection("users")
      .findOne({ _id: "change-000001" as never });
    assert.equal(doc?.name, "Renamed 0");
    assert.deepEqual(doc?.attributes, { new: "yes" });
    assert.equal(doc?.updated_by, "admin");
    // The row's created_at never overrides the stored one; updated_at is the time of the change.
    assert.equal(doc?.created_at.getTime(), 1_500_000_000_000 + 60_000);
    assert.ok(Date.now() - doc?.updated_at.getTime() < 60_000);

    // An email that belongs to somebody else fails the row, whatever the policy.
    const stolen = { ...changed[1], user: { ...changed[1].user, primary_email_address: "change-000001@example.com" } };
    const clash = await importUsers(bulk, [stolen], { on_conflict: "IMPORT_CONFLICT_POLICY_UPDATE" });
    assert.equal(clash.results[0].outcome, "IMPORT_OUTCOME_FAILED");
    assert.equal(clash.results[0].error_reason, "EMAIL_TAKEN");
    const newcomer = row("newcomer", 1);
    newcomer.user.primary_email_address = "CHANGE-000001@example.com";
    const taken = await importUsers(bulk, [newcomer]);
    assert.equal(taken.results[0].error_reason, "EMAIL_TAKEN");
    const dryTaken = await importUsers(bulk, [newcomer], { dry_run: true });
    assert.equal(dryTaken.results[0].error_reason, "EMAIL_TAKEN");
  });

  it("dry-runs 1,000 rows with 5 invalid ones: names each bad row and why, and writes nothing", async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row("dry", i));
    const bad: Record<number, [(r: Message) => void, RegExp]> = {
      17: [
        (r) => (r.user.primary_email_address = "not-an-email"),
        /^user\.primary_email_address: must be an email address$/,
      ],
      256: [(r) => (r.user.user_id = "Bad_Id"), /^user\.user_id: must be 2 or more lower-case letters/],
      511: [(r) => (r.user.name = "n".repeat(201)), /^user\.name: must be at most 200 characters$/],
      700: [(r) => (r.user.attributes = { "bad.key": "x" }), /^user\.attributes\.bad\.key: key must match/],
      999: [
        (r) => (r.password_hash = "md5:5f4dcc3b5aa765d61d8327deb882cf99"),
        /^password_hash: must be an Argon2 PHC string/,
      ],
    };
    for (const [i, [spoil]] of Object.entries(bad)) spoil(rows[Number(i)] as Message);
    // Row numbers as in a CSV file with a header line: the first user is on line 2.
    const before = await documentCounts(smallDb);
    const dry = await importUsers(smallBulk, rows, { dry_run: true, first_row_number: 2, batch: 400 });
    assert.deepEqual(await documentCounts(smallDb), before, "the database is untouched");
    assert.deepEqual(dry.summary, summaryOf({ rows: 1000, created: 995, invalid: 5 }));
    const invalid = dry.results.filter((r) => r.outcome === "IMPORT_OUTCOME_INVALID");
    assert.deepEqual(
      invalid.map((r) => Number(r.row_number)),
      Object.keys(bad).map((i) => Number(i) + 2),
    );
    for (const r of invalid) {
      const [, reason] = bad[Number(r.row_number) - 2] as [unknown, RegExp];
      assert.match(r.reason, reason);
      assert.equal(r.error_reason, "INVALID_ARGUMENT");
    }

    // The real run reports the same outcomes, row by row.
    const real = await importUsers(smallBulk, rows, { first_row_number: 2, batch: 400 });
    assert.deepEqual(
      real.results.map((r) => [r.row_number, r.outcome, r.reason]),
      dry.results.map((r) => [r.row_number, r.outcome, r.reason]),
    );
    const counts = await documentCounts(smallDb);
    assert.equal(counts.users, (before.users ?? 0) + 995);
  });

  it("reports a second row for the same user id or email in one call as DUPLICATE_ROW", async () => {
    const first = row("twin", 1);
    const sameId = { ...row("twin", 1), user: { ...row("twin", 1).user, primary_email_address: "other@example.com" } };
    const sameEmail = {
      ...row("twin", 2),
      user: { ...row("twin", 2).user, primary_email_address: "TWIN-000001@example.com" },
    };
    for (const dry_run of [true, false]) {
      const res = await importUsers(smallBulk, [first, sameId, sameEmail], { dry_run, first_row_number: 10 });
      assert.deepEqual(
        res.results.map((r) => [r.outcome, r.error_reason]),
        [
          [dry_run ? "IMPORT_OUTCOME_CREATED" : "IMPORT_OUTCOME_CREATED", ""],
          ["IMPORT_OUTCOME_FAILED", "DUPLICATE_ROW"],
          ["IMPORT_OUTCOME_FAILED", "DUPLICATE_ROW"],
        ],
      );
      assert.match(res.results[1].reason, /user id twin-000001 is also in row 10/);
      assert.match(res.results[2].reason, /email address twin-000001@example.com is also in row 10/);
    }
  });

  it("imports bcrypt and scrypt hashes that log in and are then rehashed to Argon2id", async () => {
    const salt = Buffer.from("0123456789abcdef");
    const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");
    const hashes: Record<string, { hash: string; password: string }> = {
      // OpenBSD's own test vector.
      "bcrypt-2a": { hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", password: "U*U" },
      "bcrypt-2y": {
        hash: bcrypt.hashSync("bcrypt imported passphrase", 5).replace(/^\$2b\$/, "$2y$"),
        password: "bcrypt imported passphrase",
      },
      // Made by Werkzeug 3.1 (generate_password_hash with method scrypt:16384:8:1).
      "scrypt-werkzeug": {
        hash: "scrypt:16384:8:1$5Sxn1OPI1NQ4nRVF$8f7d1fffa10d5a97cd225395c17c52cb51b3206b339ec1d4383e23e3e51a6da742e6024fdaeb0bcffa117ecd21d7fdd3fe5c42d30d74da804f67cfab9c05b572",
        password: "werkzeug imported passphrase",
      },
      // Made by Python's hashlib.scrypt, written as passlib does (`.` for `+`).
      "scrypt-passlib": {
        hash: "$scrypt$ln=14,r=8,p=1$NlTEHE6Dp2rtillaulrlxg$v3oSG.IOaaSolqDKao4S/XjQpBdMkaBvAWH6zxPBQiI",
        password: "passlib style passphrase",
      },
      "scrypt-phc": {
        hash: `$scrypt$ln=12,r=8,p=2$${b64(salt)}$${b64(scryptSync("phc scrypt passphrase", salt, 32, { N: 4096, r: 8, p: 2 }))}`,
        password: "phc scrypt passphrase",
      },
    };
    const rows = Object.entries(hashes).map(([id, { hash }]) => ({
      user: { user_id: id, primary_email_address: `${id}@example.com`, password_updated_at: timestamp(1_700_000_000) },
      password_hash: hash,
    }));
    const res = await importUsers(smallBulk, rows);
    assert.deepEqual(res.summary, summaryOf({ rows: rows.length, created: rows.length }));

    const access = grpcClient(small, "roster.v1.UserAccess");
    const users = smallDb.db().collection("users");
    try {
      for (const [id, { hash, password }] of Object.entries(hashes)) {
        const stored = await users.findOne({ _id: id as never });
        assert.equal(stored?.password_hash, hash, `${id}: stored as imported`);
        assert.equal(stored?.password_updated_at.getTime(), 1_700_000_000_000);
        await rejectsWith(
          access.call("Authenticate", { user_id_or_email: id, password: `${password}!` }),
          UNAUTHENTICATED,
        );
        const login = await access.call("Authenticate", { user_id_or_email: id, password });
        assert.equal(login.user_id, id);
        const rehashed = await users.findOne({ _id: id as never });
        assert.match(rehashed?.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, `${id}: rehashed`);
        assert.equal(rehashed?.password_updated_at.getTime(), 1_700_000_000_000, "a rehash is no password change");
        await access.call("Authenticate", { user_id_or_email: `${id}@example.com`, password });
      }
    } finally {
      access.close();
    }

    // Importing the old file again keeps the new Argon2id hashes: the row's password is not newer.
    const again = await importUsers(smallBulk, rows, { on_conflict: "IMPORT_CONFLICT_POLICY_UPDATE" });
    assert.deepEqual(again.summary, summaryOf({ rows: rows.length, unchanged: rows.length }));
    assert.match((await users.findOne({ _id: "bcrypt-2a" as never }))?.password_hash, /^\$argon2id\$/);

    const badHashes = [`$2b$03$${"C".repeat(53)}`, "$scrypt$ln=20,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "plain text"];
    const refused = await importUsers(
      smallBulk,
      badHashes.map((hash, i) => ({
        user: { user_id: `bad-hash-${i}`, primary_email_address: `bad-hash-${i}@example.com` },
        password_hash: hash,
      })),
      { dry_run: true },
    );
    assert.deepEqual(
      refused.results.map((r) => r.reason),
      [
        "password_hash: bcrypt cost must be 4 to 31",
        "password_hash: scrypt N*r must be at most 2^19 (64 MiB)",
        "password_hash: must be an Argon2 PHC string, a bcrypt hash ($2a$, $2b$, $2y$) or an scrypt hash ($scrypt$... or scrypt:N:r:p$...)",
      ],
    );
  });

  it("exports password hashes only to admins with write rights who ask, and refuses non-admins", async () => {
    const plain = await exportUsers(small, small.adminKey, { id_contains: "scrypt-" });
    assert.equal(plain.count, 3);
    assert.deepEqual(plain.hashes, []);
    const withHashes = await exportUsers(small, small.adminKey, {
      id_contains: "scrypt-",
      include_password_hashes: true,
    });
    assert.equal(withHashes.hashes.length, 3);
    for (const h of withHashes.hashes)
      assert.match(h, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);

    const reader = await createUser(small, { userId: "auditor", admin: true, rights: ["RIGHT_ADMIN_USERS_READ"] });
    assert.equal((await exportUsers(small, reader.key, { id_contains: "scrypt-" })).count, 3);
    const denied = (await exportUsers(small, reader.key, { include_password_hashes: true }).catch(
      (e) => e,
    )) as GrpcError;
    assert.equal(denied.code, PERMISSION_DENIED);
    const readerBulk = grpcClient(small, "roster.v1.UserBulk", reader.key);
    await rejectsWith(readerBulk.call("Import", { users: [row("sneaky", 1)] }), PERMISSION_DENIED, "MISSING_RIGHT");
    readerBulk.close();

    const someone = await createUser(small, { userId: "someone" });
    const refused = (await exportUsers(small, someone.key, {}).catch((e) => e)) as GrpcError;
    assert.equal(refused.code, PERMISSION_DENIED);
    const someoneBulk = grpcClient(small, "roster.v1.UserBulk", someone.key);
    await rejectsWith(someoneBulk.call("Import", { users: [row("sneaky", 1)], dry_run: true }), PERMISSION_DENIED);
    someoneBulk.close();
  });

  it("filters an export like Search, masks it like List, and resumes after a user id", async () => {
    const suspended = await exportUsers(source, source.adminKey, {
      id_contains: "bulk-00",
      state: ["STATE_SUSPENDED"],
      attributes_contain: { team: "t3" },
      field_mask: { paths: ["name", "state"] },
    });
    assert.ok(suspended.count > 0);
    for (const { user } of suspended.users) {
      assert.equal(user.state, "STATE_SUSPENDED");
      assert.equal(user.primary_email_address, "", "masked out");
      assert.deepEqual(user.attributes, {});
      assert.ok(user.name && user.created_at && user.updated_at);
    }
    // The round trip's export, which was in user id order, less the admin.
    const all = { users: exported.users.filter((r) => r.user.user_id.startsWith("bulk-")), count: seeded };
    const cut = all.users[4321]?.user.user_id;
    const rest = await exportUsers(source, source.adminKey, {
      id_contains: "bulk-",
      after_user_id: cut,
      batch_size: 77,
    });
    assert.equal(rest.totals[0], String(all.count - 4322));
    assert.equal(rest.users[0]?.user.user_id, all.users[4322]?.user.user_id);
    assert.equal(rest.count, all.count - 4322);

    const bad = (await exportUsers(source, source.adminKey, { field_mask: { paths: ["password_hash"] } }).catch(
      (e) => e,
    )) as GrpcError;
    assert.equal(bad.code, INVALID_ARGUMENT);
    const badKey = (await exportUsers(source, source.adminKey, { attributes_contain: { $where: "x" } }).catch(
      (e) => e,
    )) as GrpcError;
    assert.equal(badKey.code, INVALID_ARGUMENT);
    await rejectsWith(
      sourceBulk.call("Import", { users: Array.from({ length: 1001 }, (_, i) => row("many", i)) }),
      INVALID_ARGUMENT,
    );
  });

  it("streams 100,000 users with the server under 200 MB, and stops at the deadline", async (t) => {
    const total = 100_000;
    const started = performance.now();
    const more = Array.from({ length: total - seeded }, (_, i) => row("bulk", seeded + i));
    const seed = await importUsers(sourceBulk, more);
    assert.equal(seed.summary.created, total - seeded);
    const seededAt = performance.now();

    // Measured on a fresh server process, so that the figure is the export's, not what the seeding left behind.
    const adminKey = source.adminKey;
    await source.stop();
    source = await startServer({ mongodbUri: source.mongodbUri, expectBootstrap: false });
    const pid = source.process.pid as number;
    const baseline = rssBytes(pid);
    let peak = baseline;
    const poll = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid));
    }, 25);
    let messages = 0;
    let big: Exported;
    try {
      big = await exportUsers(source, adminKey, { id_contains: "bulk-" }, { keep: false, onMessage: () => messages++ });
    } finally {
      clearInterval(poll);
    }
    assert.equal(big.count, total);
    assert.ok(big.totals.every((x) => x === String(total)));
    assert.equal(messages, 1 + total / 100);
    const exportedAt = performance.now();
    t.diagnostic(
      `server RSS during the export of ${total} users: peak ${(peak / 2 ** 20).toFixed(1)} MiB ` +
        `(${(baseline / 2 ** 20).toFixed(1)} MiB before); seeding 90k by Import ${Math.round(seededAt - started)} ms, ` +
        `export ${Math.round(exportedAt - seededAt)} ms`,
    );
    assert.ok(peak < 200 * 2 ** 20, `peak RSS ${peak} bytes`);

    const timedOut = (await exportUsers(source, adminKey, {}, { keep: false, deadlineMs: 1500 }).catch(
      (e) => e,
    )) as GrpcError;
    assert.equal(timedOut.code, DEADLINE_EXCEEDED);
    const health = grpcClient(source, "grpc.health.v1.Health");
    assert.equal((await health.call("Check", {})).status, "SERVING");
    health.close();
  });
});
