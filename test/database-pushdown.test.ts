/**
 * The embedded FerretDB answers filters, sorts, skips, limits and counts in
 * SQL from indexes (scripts/ferretdb/sqlite-index-pushdown.patch). This test
 * checks that those answers are the ones FerretDB gives when it evaluates
 * every query in Go (`--test-disable-pushdown`, the same binary): random
 * documents with mixed types, nulls, missing fields and arrays, random
 * filters, sorts, pages and counts, on both, compared.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { type Collection, type Document, MongoClient, ObjectId } from "mongodb";
import { ensureFerretdb } from "../server/database/ferretdb-build.js";
import { projectRoot } from "../server/runtime/paths.js";
import { testDatabaseUri } from "./support/server.js";

const onFerretdb = process.env.ROSTER_TEST_DATABASE_KIND === "ferretdb";
const seed = Number(process.env.ROSTER_PUSHDOWN_SEED ?? Date.now() % 1_000_000);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** FerretDB with pushdown disabled: every filter, sort and count done by its handler in Go. */
async function startOracle(): Promise<{ uri: string; stop(): void }> {
  const binary = await ensureFerretdb(process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache"), () => {});
  const dir = mkdtempSync(join(tmpdir(), "roster-oracle-db-"));
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      "--handler=sqlite",
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      "--debug-addr=-",
      "--telemetry=disable",
      `--state-dir=${dir}`,
      "--log-level=error",
      "--test-disable-pushdown",
    ],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error("oracle FerretDB did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/pushdown_oracle`,
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const fields = ["s", "n", "d", "b", "o", "m"] as const;
const indexed = ["s", "n", "d", "b"] as const;

const day = 86_400_000;
const oids = [1, 2, 3, 4].map((i) => new ObjectId(i.toString(16).padStart(24, "0")));
const strings = ["", "a", "A", "ab", "abc", "b", "ä", "ÄB", "a.b", "(x)", "10", "1"];

/** A scalar of any type Roster stores, from small pools so that filters hit. */
const scalar = fc.oneof(
  fc.constantFrom(...strings),
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(0.5, 1.0, 2.5, -1.5, 1e20),
  fc.constantFrom(true, false),
  fc.integer({ min: 0, max: 5 }).map((i) => new Date(1_700_000_000_000 + i * day)),
  fc.constantFrom(...oids),
  fc.constant(null),
);

const fieldValue = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ x: scalar }) },
);

/** Documents with any value in any field, or (`scalars`) only scalars, which lets SQL answer exactly. */
const documentOf = (value: fc.Arbitrary<unknown>) =>
  fc.record(
    Object.fromEntries(fields.map((f) => [f, value])) as Record<(typeof fields)[number], fc.Arbitrary<unknown>>,
    {
      requiredKeys: [],
    },
  );

const field = fc.constantFrom(...fields);

const leaf: fc.Arbitrary<Document> = fc.oneof(
  fc.tuple(field, scalar).map(([f, v]) => ({ [f]: v })),
  fc.tuple(field, scalar).map(([f, v]) => ({ [f]: { $ne: v } })),
  fc.tuple(field, fc.constantFrom("$gt", "$gte", "$lt", "$lte"), scalar).map(([f, op, v]) => ({ [f]: { [op]: v } })),
  fc.tuple(field, fc.array(scalar, { maxLength: 3 })).map(([f, vs]) => ({ [f]: { $in: vs } })),
  fc
    .tuple(field, fc.constantFrom("a", "^a", "b$", "\\(", "ä"), fc.constantFrom("", "i"))
    .map(([f, re, o]) => ({ [f]: { $regex: re, $options: o } })),
  fc.tuple(field, scalar, scalar).map(([f, lo, hi]) => ({ [f]: { $gte: lo, $lt: hi } })),
);

const filter: fc.Arbitrary<Document> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((xs) => ({ $and: xs })),
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((xs) => ({ $or: xs })),
    fc.tuple(leaf, leaf).map(([a, b]) => ({ ...a, ...b })),
  ),
})).node as fc.Arbitrary<Document>;

const query = fc.record({
  filter,
  sort: fc.array(fc.tuple(field, fc.constantFrom(1, -1)), { maxLength: 2 }),
  skip: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
  limit: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
});

type Query = typeof query extends fc.Arbitrary<infer Q> ? Q : never;

/** Run a query; a server error is a result too (both must refuse alike). */
async function run(c: Collection<Document & { _id: string }>, q: Query): Promise<unknown> {
  try {
    const sort: Record<string, 1 | -1> = {};
    for (const [f, dir] of q.sort) if (!(f in sort)) sort[f] = dir as 1 | -1;
    sort._id = 1;
    const docs = await c.find(q.filter, { sort, skip: q.skip, limit: q.limit, projection: { _id: 1 } }).toArray();
    const count = await c.countDocuments(q.filter);
    const counted = await c.db.command({ count: c.collectionName, query: q.filter, skip: q.skip, limit: q.limit });
    return { ids: docs.map((d) => d._id), count, n: counted.n };
  } catch (err) {
    return { error: (err as { code?: number }).code ?? String(err) };
  }
}

describe("FerretDB pushdown (embedded database)", { skip: !onFerretdb && "the tests run on MONGODB_URI" }, () => {
  let oracle: Awaited<ReturnType<typeof startOracle>>;
  let tested: MongoClient;
  let reference: MongoClient;
  let a: Collection<Document & { _id: string }>;
  let b: Collection<Document & { _id: string }>;

  before(async () => {
    oracle = await startOracle();
    tested = new MongoClient(testDatabaseUri());
    reference = new MongoClient(oracle.uri);
    a = tested.db().collection<Document & { _id: string }>("docs");
    b = reference.db().collection<Document & { _id: string }>("docs");
    for (const c of [a, b]) {
      for (const f of indexed) await c.createIndexes([{ key: { [f]: 1, _id: 1 }, name: `${f}_1__id_1` }]);
    }
  });
  after(async () => {
    await tested?.close();
    await reference?.close();
    oracle?.stop();
  });

  it(`answers random queries over random documents as FerretDB does without pushdown (seed ${seed})`, async () => {
    // First only scalars (of mixed types), where SQL may sort, skip, limit and
    // count by itself; then arrays and objects in every field, where it must not.
    const scalars = fc.sample(documentOf(scalar), { seed, numRuns: 300 }).map((d, i) => ({ _id: `d${i}`, ...d }));
    const mixed = fc.sample(documentOf(fieldValue), { seed, numRuns: 100 }).map((d, i) => ({ _id: `m${i}`, ...d }));
    await a.insertMany(scalars);
    await b.insertMany(scalars);
    const queries = fc.sample(query, { seed: seed + 1, numRuns: 300 });
    for (const [i, q] of queries.entries()) {
      if (i === queries.length / 2) {
        for (const c of [a, b]) {
          await c.insertMany(mixed);
          await c.updateOne({ _id: "d1" }, { $set: { s: ["b", "c"] } });
        }
      }
      const [got, want] = await Promise.all([run(a, q), run(b, q)]);
      assert.deepEqual(got, want, `query ${i} (seed ${seed}, ROSTER_PUSHDOWN_SEED to repeat): ${JSON.stringify(q)}`);
    }
  });
});
