/**
 * The driver-level comparison of database engines behind docs/database.md:
 * any MongoDB-compatible server, given by URI, gets Roster's users
 * collection with Roster's indexes (created by the store), seeded with user
 * documents shaped like Roster's, and the queries the store makes, measured
 * with the `mongodb` driver alone (16 concurrent callers where throughput
 * is measured; median [min .. max] of 3 interleaved rounds).
 *
 *   node dist/bench/engines.js [<mongodb-uri>] [--users N]
 *
 * Without a URI it starts the embedded database (as `npm start` would) in
 * a temporary folder. The database `roster_engines` is dropped first.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient, ObjectId } from "mongodb";
import { type EmbeddedDatabase, startEmbeddedDatabase } from "../server/database/embedded-database.js";
import { projectRoot } from "../server/runtime/paths.js";
import { openStore } from "../server/store/store.js";
import type { NewUserDocument } from "../server/store/user-documents.js";
import { interleaved, latency, report, throughput } from "./support/measure.js";

const args = process.argv.slice(2);
const usersAt = args.indexOf("--users");
const count = usersAt >= 0 ? Number(args[usersAt + 1]) : 100_000;
const givenUri = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--users");
const callers = 16;
const seconds = 2;

function userDocument(i: number): NewUserDocument {
  const id = `eng-${String(i).padStart(7, "0")}`;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
  return {
    user_id: id,
    name: `Engine User ${i}${i % 1000 === 7 ? " Lovelace" : ""}`,
    description: i % 3 === 0 ? "imported" : "",
    primary_email_address: `${id}@example.com`,
    email_key: `${id}@example.com`,
    primary_email_address_validated_at: null,
    attributes: { team: `t${i % 17}`, site: `s${i % 5}` },
    state: i % 50 === 0 ? "REQUESTED" : "APPROVED",
    state_description: "",
    admin: false,
    require_password_update: false,
    password_hash: null,
    password_updated_at: null,
    created_at: at,
    updated_at: at,
    deleted_at: null,
    created_by: "system",
    updated_by: "system",
    merged_into: "",
    merge_redirect: false,
    operation: null,
  };
}

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;
let baseUri = givenUri;
if (!baseUri) {
  dataDir = mkdtempSync(join(tmpdir(), "roster-engines-"));
  embedded = await startEmbeddedDatabase({
    dataDir,
    cacheDir: process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache"),
    log: (msg) => console.log(`[engines] ${msg}`),
  });
  baseUri = embedded.uri;
}
const uri = `${baseUri.replace(/\/[^/?]*(\?.*)?$/, "")}/roster_engines${/\?.*$/.exec(baseUri)?.[0] ?? ""}`;
const client = await MongoClient.connect(uri);
try {
  await client.db().dropDatabase();
  const store = await openStore(uri);
  await store.ensureIndexes();
  const started = performance.now();
  for (let from = 0; from < count; from += 1000) {
    const docs = Array.from({ length: Math.min(1000, count - from) }, (_, k) => userDocument(from + k));
    await store.usersBulk.insertMany(docs);
  }
  await store.close();
  console.log(
    `${count} users seeded in ${((performance.now() - started) / 1000).toFixed(1)} s on ${embedded?.kind ?? uri}`,
  );

  const users = client.db().collection<Record<string, unknown> & { _id: string }>("users");
  const scratch = client.db().collection<Record<string, unknown> & { _id: string }>("engines_scratch");
  await scratch.createIndex({ email_key: 1 }, { unique: true });
  const pick = (i: number) => `eng-${String((i * 7919) % count).padStart(7, "0")}`;
  const deep = Math.max(0, count - 1200);
  const page = { deleted_at: null };
  const sortById = { sort: { _id: 1 } as const, limit: 101 };
  let inserted = 0;
  const v = await interleaved(3, {
    findById: () => throughput(callers, seconds * 1000, (i) => users.findOne({ _id: pick(i) })),
    findByEmail: () =>
      throughput(callers, seconds * 1000, (i) =>
        users.findOne({ email_key: `${pick(i)}@example.com`, deleted_at: null }),
      ),
    page1: () => latency(5, () => users.find(page, sortById).toArray()),
    keysetDeep: () =>
      latency(5, () =>
        users.find({ ...page, _id: { $gt: `eng-${String(deep).padStart(7, "0")}` } }, sortById).toArray(),
      ),
    offsetDeep: () => latency(5, () => users.find(page, { ...sortById, skip: deep }).toArray()),
    search: () =>
      latency(5, () => users.find({ ...page, name: { $regex: "lovelace", $options: "i" } }, sortById).toArray()),
    count: () => latency(5, () => users.countDocuments(page)),
    estimated: () => latency(5, () => users.estimatedDocumentCount()),
    insertOne: () =>
      throughput(callers, seconds * 1000, () => {
        const n = inserted++;
        const id = `new-${n}-${randomBytes(3).toString("hex")}`;
        return scratch.insertOne({ ...userDocument(n), _id: id, user_id: id, email_key: `${id}@example.com` });
      }),
    replaceOne: () =>
      throughput(callers, seconds * 1000, async (i) => {
        const id = pick(i);
        const doc = await users.findOne({ _id: id });
        if (!doc) throw new Error(`${id} is missing`);
        const revision = Number(doc.revision ?? 0);
        await users.replaceOne(
          { _id: id, revision },
          { ...doc, revision: revision + 1, etag: new ObjectId().toHexString() },
        );
      }),
    updateOne: () =>
      throughput(callers, seconds * 1000, (i) =>
        users.updateOne({ _id: pick(i) }, { $set: { updated_at: new Date() } }),
      ),
  });
  report("findOne({_id})", v.findById, "ops/s");
  report("findOne({email_key, deleted_at: null})", v.findByEmail, "ops/s");
  report("page 1 (deleted_at: null, sort _id, limit 101)", v.page1, "ms");
  report(`keyset page at depth ${deep}`, v.keysetDeep, "ms");
  report(`offset page at depth ${deep} (skip)`, v.offsetDeep, "ms");
  report("$regex name search, 0.1% match, limit 101", v.search, "ms");
  report("countDocuments({deleted_at: null})", v.count, "ms");
  report("estimatedDocumentCount", v.estimated, "ms");
  report("insertOne", v.insertOne, "ops/s");
  report("findOne + replaceOne({_id, revision}) (read and write)", v.replaceOne, "ops/s");
  report("updateOne $set", v.updateOne, "ops/s");
} finally {
  await client.close();
  await embedded?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
