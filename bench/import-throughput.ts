/**
 * `npm run bench:import`: users per second that UserBulk.Import takes in
 * through a real server, against a raw driver `insertMany` of the same
 * documents (same shape, same indexes) into another database on the same
 * database server, in one run, and the ratio of the two.
 *
 *   node dist/bench/import-throughput.js [users] [batch] [concurrency]
 *   (defaults: 100000 users, 1000 per call, 2 calls in flight)
 *
 * The database is MONGODB_URI when set, otherwise an embedded one (mongod
 * on PATH or FerretDB) in a temporary folder. The import goes through the
 * generated client over gRPC, as the CLI does; both sides insert unordered
 * batches of the same size with the same number in flight, taking turns.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MongoClient, ObjectId } from "mongodb";
import { UserBulk, type UserRecord, UserRecordSchema } from "../gen/roster/v1/user_bulk_pb.js";
import { State } from "../gen/roster/v1/user_pb.js";
import { startEmbeddedDatabase } from "../server/database/embedded-database.js";
import { projectRoot } from "../server/runtime/paths.js";
import type { UserDocument } from "../server/store/user-documents.js";
import { createUsersStore } from "../server/store/users-store.js";

const users = Number(process.argv[2] ?? 100_000);
const batch = Number(process.argv[3] ?? 1000);
const concurrency = Number(process.argv[4] ?? 2);

/** The i-th user, as the document Roster stores and as the row the CLI sends. */
function user(i: number, now: Date): { doc: UserDocument; row: UserRecord } {
  const id = `bench-${String(i).padStart(7, "0")}`;
  const email = `${id}@example.com`;
  const attributes = { team: `t${i % 17}`, site: `s${i % 5}` };
  const doc: UserDocument = {
    _id: id,
    user_id: id,
    ref: new ObjectId(),
    name: `Bench User ${i}`,
    description: i % 3 === 0 ? "imported" : "",
    primary_email_address: email,
    email_key: email,
    primary_email_address_validated_at: null,
    attributes,
    state: "APPROVED",
    state_description: "",
    admin: false,
    require_password_update: false,
    password_hash: null,
    password_updated_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    created_by: "admin",
    updated_by: "admin",
    merged_into: "",
    merge_redirect: false,
    operation: null,
    etag: randomBytes(9).toString("base64url"),
    revision: 1,
  };
  const row = create(UserRecordSchema, {
    user: {
      userId: id,
      name: doc.name,
      description: doc.description,
      primaryEmailAddress: email,
      attributes,
      state: State.APPROVED,
      createdAt: timestampFromDate(now),
      updatedAt: timestampFromDate(now),
    },
  });
  return { doc, row };
}

/** Run `task` over consecutive batches of `items`, `concurrency` at a time; elapsed ms. */
async function timed<T>(items: T[], task: (slice: T[]) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const slice = items.slice(next, next + batch);
        next += batch;
        await task(slice);
      }
    }),
  );
  return performance.now() - started;
}

/** Start `roster-server serve` on a free port; resolves once it serves, with its URL and bootstrap admin key. */
async function startRoster(mongodbUri: string): Promise<{ url: string; key: string; process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [join(projectRoot, "dist", "server", "main.js"), "serve", "--listen", "127.0.0.1:0"],
    { env: { ...process.env, MONGODB_URI: mongodbUri }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  // Only the start-up lines matter; later ones (one per call) are dropped.
  child.stdout?.on("data", (d) => {
    if (out.length < 100_000) out += d;
  });
  child.stderr?.on("data", (d) => (err += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const address = /"address":"([^"]+)"/.exec(out)?.[1];
    const key = /rst_ak_\w+/.exec(err)?.[0];
    if (address && key && out.includes('"msg":"serving"')) return { url: `http://${address}`, key, process: child };
    if (child.exitCode !== null) throw new Error(`roster-server exited with ${child.exitCode}:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`roster-server did not become ready:\n${out}\n${err}`);
}

const dataDir = mkdtempSync(join(tmpdir(), "roster-bench-db-"));
const embedded = process.env.MONGODB_URI
  ? undefined
  : await startEmbeddedDatabase({
      dataDir,
      cacheDir: process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache"),
      log: (msg) => process.stderr.write(`[bench database] ${msg}\n`),
    });
const serverUri = process.env.MONGODB_URI ?? embedded?.uri ?? "";
/** The URI of database `name` on the database server, keeping the URI's options. */
function databaseUri(name: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?[^?]*(\?.*)?$/.exec(serverUri);
  if (!m) throw new Error(`cannot parse ${serverUri}`);
  return `${m[1]}/${name}${m[2] ?? ""}`;
}
const suffix = randomBytes(4).toString("hex");
const rawUri = databaseUri(`roster_bench_raw_${suffix}`);
const rosterUri = databaseUri(`roster_bench_import_${suffix}`);
const driver = new MongoClient(rawUri);
let roster: Awaited<ReturnType<typeof startRoster>> | undefined;
try {
  const now = new Date();
  const generated = Array.from({ length: users }, (_, i) => user(i, now));
  console.log(
    `${users} users, ${batch} per batch, ${concurrency} batches in flight, on ${embedded?.kind ?? "MONGODB_URI"}`,
  );

  // The raw side: the same documents, with the same indexes as Roster's users collection.
  const rawDb = driver.db();
  await createUsersStore(rawDb).ensureIndexes();
  const raw = rawDb.collection<UserDocument>("users");
  roster = await startRoster(rosterUri);
  const client = createClient(UserBulk, createGrpcTransport({ baseUrl: roster.url }));
  const headers = { authorization: `Bearer ${roster.key}` };

  // The two sides take turns, a round of `concurrency` batches each, so
  // that a database that speeds up or slows down as its files grow (FerretDB
  // on SQLite does, by a factor of two) weighs on both alike.
  let rawMs = 0;
  let importMs = 0;
  let created = 0;
  const round = batch * concurrency;
  for (let start = 0; start < users; start += round) {
    const part = generated.slice(start, start + round);
    rawMs += await timed(
      part.map((g) => g.doc),
      async (docs) => {
        await raw.insertMany(docs, { ordered: false });
      },
    );
    importMs += await timed(
      part.map((g) => g.row),
      async (rows) => {
        const res = await client.import({ users: rows }, { headers, timeoutMs: 300_000 });
        created += Number(res.summary?.created ?? 0);
      },
    );
  }
  if (created !== users) throw new Error(`imported ${created} of ${users} users`);
  const rawRate = users / (rawMs / 1000);
  const importRate = users / (importMs / 1000);
  console.log(`  driver insertMany   ${rawRate.toFixed(0).padStart(8)} users/s  (${(rawMs / 1000).toFixed(1)} s)`);
  console.log(
    `  UserBulk.Import     ${importRate.toFixed(0).padStart(8)} users/s  (${(importMs / 1000).toFixed(1)} s)`,
  );
  console.log(`Import / insertMany = ${(importRate / rawRate).toFixed(2)}`);

  await driver.db().dropDatabase();
  await driver.db(`roster_bench_import_${suffix}`).dropDatabase();
} finally {
  if (roster) {
    roster.process.kill("SIGTERM");
    await new Promise((r) => roster?.process.once("exit", r));
  }
  await driver.close();
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
