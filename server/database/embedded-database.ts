import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";
import { ensureFerretdb } from "./ferretdb-build.js";

/** A database server this process started, and how to reach it. */
export interface EmbeddedDatabase {
  kind: "mongod" | "ferretdb";
  /** mongodb://127.0.0.1:<port>/ (append a database name) */
  uri: string;
  /** Stop the database server and wait for it to exit. */
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  /** Folder for the database files, its log and its pid file. */
  dataDir: string;
  /** Folder for the FerretDB build. */
  cacheDir: string;
  log: (msg: string) => void;
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

/** Kill a database server left behind by a process that died without stopping it. */
function killStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8"));
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (/ferretdb|mongod/.test(cmdline)) process.kill(pid, "SIGKILL");
  } catch {}
  rmSync(pidFile, { force: true });
}

/**
 * Start a MongoDB-compatible server for a machine without MONGODB_URI: a
 * `mongod` from PATH if there is one, otherwise FerretDB 1.24 on SQLite
 * (built once with Go). It listens on a free loopback port, keeps its files
 * under `dataDir`, and is stopped by `stop()`.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  mkdirSync(options.dataDir, { recursive: true });
  const mongod = onPath("mongod");
  const kind = mongod ? "mongod" : "ferretdb";
  const binary = mongod ?? (await ensureFerretdb(options.cacheDir, options.log));
  const pidFile = join(options.dataDir, `${kind}.pid`);
  killStale(pidFile);
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
  const logFd = openSync(join(options.dataDir, `${kind}.log`), "a");
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );

  const deadline = Date.now() + 60_000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      const tail = readFileSync(join(options.dataDir, `${kind}.log`), "utf8").slice(-2000);
      throw new Error(`${kind} did not start on port ${port}; its log ends with:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  options.log(`started ${kind} on 127.0.0.1:${port} with data in ${options.dataDir}`);

  return {
    kind,
    uri: `mongodb://127.0.0.1:${port}/`,
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exitedPromise;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}
