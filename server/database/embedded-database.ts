import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";
import { acquireLease, type DatabaseLease, liveLease, releaseLease, updateLease } from "./database-lease.js";
import { ensureFerretdb } from "./ferretdb-build.js";
import { superviseDatabase } from "./supervised-database.js";

/** The embedded database of a data folder, and how to reach it. */
export interface EmbeddedDatabase {
  kind: "mongod" | "ferretdb";
  /** mongodb://127.0.0.1:<port>/ (append a database name) */
  uri: string;
  /**
   * Whether another, running Roster process owns (and supervises) this
   * database, which this process only uses.
   */
  shared: boolean;
  /** Stop the database server (if this process owns it) and wait for it to exit. */
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  /** Folder for the database files, its log, its pid file and its owner's lease. */
  dataDir: string;
  /** Folder for the FerretDB build. */
  cacheDir: string;
  log: (msg: string) => void;
  /**
   * When a running Roster process already owns the folder's database: use
   * that database (administrative commands) instead of failing (`serve`).
   * Default false.
   */
  shareRunning?: boolean;
  /** Called when the database process dies (it is then restarted). */
  onExit?: () => void;
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Kill a database server left behind by a Roster process that died without
 * stopping it. Called only by the new owner of the folder's lease, so the
 * database's owner is known to be dead.
 */
function killStale(pids: readonly (number | undefined)[]): void {
  for (const pid of new Set(pids)) {
    if (!pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (/ferretdb|mongod/.test(cmdline)) process.kill(pid, "SIGKILL");
    } catch {}
  }
}

function readPid(pidFile: string): number | undefined {
  try {
    return Number(readFileSync(pidFile, "utf8")) || undefined;
  } catch {
    return undefined;
  }
}

/** The database of a live owner, once that owner has recorded where it listens. */
async function runningDatabase(options: EmbeddedDatabaseOptions, owner: DatabaseLease): Promise<EmbeddedDatabase> {
  const deadline = Date.now() + 60_000;
  let lease: DatabaseLease | undefined = owner;
  while (lease && !lease.uri && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    lease = liveLease(options.dataDir);
  }
  if (!lease?.uri)
    throw new Error(`the Roster process ${owner.ownerPid} owns ${options.dataDir} but its database did not start`);
  options.log(`using the database of the running Roster process ${lease.ownerPid} at ${lease.uri}`);
  return { kind: lease.kind ?? "ferretdb", uri: lease.uri, shared: true, stop: async () => {} };
}

function inUse(options: EmbeddedDatabaseOptions, owner: DatabaseLease): Error {
  return new Error(
    `the database in ${options.dataDir} belongs to the running Roster process ${owner.ownerPid}` +
      `${owner.uri ? ` (at ${owner.uri})` : ""}; stop that process first, or give this one another --data-dir`,
  );
}

/**
 * Start a MongoDB-compatible server for a machine without MONGODB_URI: a
 * `mongod` from PATH if there is one, otherwise FerretDB 1.24 on SQLite
 * (built once with Go). It listens on a free loopback port, keeps its files
 * under `dataDir`, is restarted (same port, with backoff) whenever it dies,
 * and is stopped by `stop()`.
 *
 * This process owns the database while it runs (a lease in `dataDir`). When
 * a live Roster process already owns it, its database is used if
 * `shareRunning` is set, and never killed.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  mkdirSync(options.dataDir, { recursive: true });
  const owned = acquireLease(options.dataDir);
  if (!owned) {
    const owner = liveLease(options.dataDir);
    if (owner && options.shareRunning) return runningDatabase(options, owner);
    if (owner) throw inUse(options, owner);
    throw new Error(`could not take over the database lease in ${options.dataDir}; try again`);
  }
  try {
    return await startOwnDatabase(options, owned.stale);
  } catch (err) {
    releaseLease(options.dataDir);
    throw err;
  }
}

async function startOwnDatabase(options: EmbeddedDatabaseOptions, stale?: DatabaseLease): Promise<EmbeddedDatabase> {
  const mongod = onPath("mongod");
  const kind = mongod ? "mongod" : "ferretdb";
  const binary = mongod ?? (await ensureFerretdb(options.cacheDir, options.log));
  const pidFile = join(options.dataDir, `${kind}.pid`);
  killStale([stale?.databasePid, readPid(pidFile)]);
  rmSync(pidFile, { force: true });
  const port = await freePort();
  let args: string[];
  if (kind === "mongod") {
    const dbPath = join(options.dataDir, "mongod");
    mkdirSync(dbPath, { recursive: true });
    args = ["--dbpath", dbPath, "--port", String(port), "--bind_ip", "127.0.0.1", "--quiet"];
  } else {
    const sqlite = join(options.dataDir, "ferretdb");
    mkdirSync(sqlite, { recursive: true });
    args = [
      "--handler=sqlite",
      `--sqlite-url=file:${sqlite}/`,
      `--listen-addr=127.0.0.1:${port}`,
      "--debug-addr=-",
      "--telemetry=disable",
      `--state-dir=${options.dataDir}`,
      "--log-level=error",
    ];
  }
  const uri = `mongodb://127.0.0.1:${port}/`;
  const logFile = join(options.dataDir, `${kind}.log`);
  const database = superviseDatabase({
    binary,
    args,
    logFile,
    log: options.log,
    onExit: options.onExit,
    onStart(pid) {
      writeFileSync(pidFile, String(pid));
      updateLease(options.dataDir, { kind, databasePid: pid });
    },
  });

  const deadline = Date.now() + 60_000;
  while (!(await canConnect(port))) {
    if (database.exits > 0 || Date.now() > deadline) {
      await database.stop();
      const tail = readFileSync(logFile, "utf8").slice(-2000);
      throw new Error(`${kind} did not start on port ${port}; its log ends with:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  updateLease(options.dataDir, { uri });
  options.log(`started ${kind} on 127.0.0.1:${port} with data in ${options.dataDir}`);

  return {
    kind,
    uri,
    shared: false,
    async stop() {
      await database.stop();
      rmSync(pidFile, { force: true });
      releaseLease(options.dataDir);
    },
  };
}
