/**
 * What every benchmark needs: a database (MONGODB_URI, or an embedded one
 * in a temporary folder), a Roster server on it, 100,000 users imported
 * through UserBulk.Import, a driver connection to the same database for the
 * raw ceilings, and clients over gRPC and Connect.
 *
 * `npm run bench` makes one environment and runs every measure on it; each
 * `bench/<measure>.js` run alone makes its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type DescService } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { type Db, MongoClient } from "mongodb";
import { UserBulk, type UserRecord, UserRecordSchema } from "../../gen/roster/v1/user_bulk_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import { startEmbeddedDatabase } from "../../server/database/embedded-database.js";
import { projectRoot } from "../../server/runtime/paths.js";

/** The transports a client can take, as other services and browsers use them. */
export type TransportName = "gRPC" | "Connect";

export interface BenchEnvironment {
  /** http://127.0.0.1:<port> of the Roster server. */
  url: string;
  /** API key of the bootstrap admin. */
  adminKey: string;
  /** Authorization header for the admin. */
  headers: Record<string, string>;
  /** The server's process (for its RSS). */
  server: ChildProcess;
  /** "ferretdb", "mongod" or "MONGODB_URI". */
  databaseKind: string;
  /** The Roster database's URI (for a second server on it). */
  mongodbUri: string;
  /** The Roster database, through the driver (for raw ceilings and explain). */
  db: Db;
  /** A scratch database on the same database server, for raw writes. */
  rawDb: Db;
  /** Ids of the imported users: `bench-0000000` ... */
  userIds: string[];
  transports: Record<TransportName, Transport>;
  client<S extends DescService>(service: S, transport: TransportName): Client<S>;
  stop(): Promise<void>;
}

/** The i-th imported user's id. */
export function benchUserId(i: number): string {
  return `bench-${String(i).padStart(7, "0")}`;
}

/** The i-th user as an import row: a name with a word for searches, attributes, a spread of creation times. */
function row(i: number): UserRecord {
  const id = benchUserId(i);
  return create(UserRecordSchema, {
    user: {
      userId: id,
      name: `Bench User ${i}${i % 1000 === 7 ? " Lovelace" : ""}`,
      description: i % 3 === 0 ? "imported" : "",
      primaryEmailAddress: `${id}@example.com`,
      attributes: { team: `t${i % 17}`, site: `s${i % 5}` },
      state: i % 50 === 0 ? State.REQUESTED : State.APPROVED,
      createdAt: timestampFromDate(new Date(Date.UTC(2026, 0, 1) + i * 60_000)),
    },
  });
}

/**
 * Start `roster-server serve` on a free port; resolves once it serves, with
 * its address and admin key (none when `expectKey` is false: a second
 * server on a database that has its admin).
 */
export async function startRoster(
  mongodbUri: string,
  dataDir: string,
  options: { args?: string[]; expectKey?: boolean } = {},
): Promise<{ url: string; key: string; process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    // As `npm start` and the roster-server command start it (see server/runtime/heap-settings.ts).
    [
      "--max-semi-space-size=8",
      join(projectRoot, "dist", "server", "main.js"),
      "serve",
      "--listen",
      "127.0.0.1:0",
      ...(options.args ?? []),
    ],
    {
      env: { ...process.env, MONGODB_URI: mongodbUri, ROSTER_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    if (out.length < 100_000) out += d;
  });
  child.stderr?.on("data", (d) => {
    if (err.length < 100_000) err += d;
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const address = /"address":"([^"]+)"/.exec(out)?.[1];
    const key = options.expectKey === false ? "" : /rst_ak_\w+/.exec(err)?.[0];
    if (address && key !== undefined && out.includes('"msg":"serving"'))
      return { url: `http://${address}`, key, process: child };
    if (child.exitCode !== null) throw new Error(`roster-server exited with ${child.exitCode}:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`roster-server did not become ready:\n${out}\n${err}`);
}

/** Replace the database name of a MongoDB URI, keeping its options. */
export function withDatabase(uri: string, name: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?[^?]*(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`cannot parse ${uri}`);
  return `${m[1]}/${name}${m[2] ?? ""}`;
}

/**
 * Start a database and a server and import `users` users (default
 * ROSTER_BENCH_USERS or 100,000), 1,000 per call with two calls in flight.
 */
export async function startBenchEnvironment(
  options: { users?: number; log?: (msg: string) => void } = {},
): Promise<BenchEnvironment> {
  const log = options.log ?? ((msg: string) => process.stderr.write(`[bench] ${msg}\n`));
  const count = options.users ?? Number(process.env.ROSTER_BENCH_USERS ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), "roster-bench-"));
  const embedded = process.env.MONGODB_URI
    ? undefined
    : await startEmbeddedDatabase({
        dataDir: join(dir, "db"),
        cacheDir: process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache"),
        log,
      });
  const serverUri = process.env.MONGODB_URI ?? embedded?.uri ?? "";
  const suffix = randomBytes(4).toString("hex");
  const rosterUri = withDatabase(serverUri, `roster_bench_${suffix}`);
  const driver = new MongoClient(rosterUri, { maxPoolSize: 64 });
  const roster = await startRoster(rosterUri, join(dir, "data"));
  const headers = { authorization: `Bearer ${roster.key}` };
  const transports: Record<TransportName, Transport> = {
    gRPC: createGrpcTransport({ baseUrl: roster.url }),
    Connect: createConnectTransport({ baseUrl: roster.url, httpVersion: "1.1" }),
  };
  const client = <S extends DescService>(service: S, transport: TransportName) =>
    createClient(service, transports[transport]);

  const started = performance.now();
  const bulk = client(UserBulk, "gRPC");
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < count) {
        const from = next;
        next += 1000;
        const rows = Array.from({ length: Math.min(1000, count - from) }, (_, k) => row(from + k));
        const res = await bulk.import({ users: rows }, { headers, timeoutMs: 300_000 });
        if (Number(res.summary?.created ?? 0) !== rows.length)
          throw new Error(`import created ${res.summary?.created}`);
      }
    }),
  );
  log(
    `imported ${count} users in ${((performance.now() - started) / 1000).toFixed(1)} s on ${embedded?.kind ?? "MONGODB_URI"}`,
  );

  return {
    url: roster.url,
    adminKey: roster.key,
    headers,
    server: roster.process,
    databaseKind: embedded?.kind ?? "MONGODB_URI",
    mongodbUri: rosterUri,
    db: driver.db(),
    rawDb: driver.db(`roster_bench_raw_${suffix}`),
    userIds: Array.from({ length: count }, (_, i) => benchUserId(i)),
    transports,
    client,
    async stop() {
      roster.process.kill("SIGTERM");
      await new Promise((r) => (roster.process.exitCode !== null ? r(null) : roster.process.once("exit", r)));
      await driver
        .db()
        .dropDatabase()
        .catch(() => {});
      await driver
        .db(`roster_bench_raw_${suffix}`)
        .dropDatabase()
        .catch(() => {});
      await driver.close();
      await embedded?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident memory of a process in MiB (Linux), or NaN. */
export function rssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * Run a measure module alone: make an environment, run, print, stop.
 * Used by each bench script when it is the program started.
 */
export async function runAlone(
  name: string,
  measure: (env: BenchEnvironment) => Promise<void>,
  options: { users?: number } = {},
): Promise<void> {
  const env = await startBenchEnvironment(options);
  try {
    console.log(`== ${name} (${env.userIds.length} users, ${env.databaseKind})`);
    await measure(env);
  } finally {
    await env.stop();
  }
}

/** Whether the module at `url` is the program node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === new URL(`file://${process.argv[1]}`).href;
}
