import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../server/runtime/paths.js";

/** A Roster server process started by a test. */
export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** 127.0.0.1:<port> */
  address: string;
  /** API key of the bootstrap admin (user `admin`), printed at first start. */
  adminKey: string;
  /** The database URI the server uses. */
  mongodbUri: string;
  /** Its --data-dir (outbox, secret key). */
  dataDir: string;
  process: ChildProcess;
  /** Everything the server wrote to stdout (structured log) and stderr. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/** The URI of a fresh database for one test file, on the test database server. */
export function testDatabaseUri(name = `roster_test_${randomBytes(6).toString("hex")}`): string {
  const base = process.env.ROSTER_TEST_MONGODB_URI;
  if (!base) throw new Error("ROSTER_TEST_MONGODB_URI is not set: run the tests with `npm test`");
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/.exec(base);
  if (!m) throw new Error(`cannot parse ${base}`);
  return `${m[1]}/${name}${m[3] ?? ""}`;
}

/**
 * Wait until the server's structured log has lines matching `predicate`
 * (log lines reach the test through a pipe, a little after the RPC answer).
 */
export async function logLines(
  server: TestServer,
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs = 5000,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = server
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter(predicate);
    if (lines.length > 0 || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Servers still running when the test process ends are killed, so that a
 * failed test never leaves one behind (or keeps the test process alive).
 */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export const serverMain = join(projectRoot, "dist", "server", "main.js");

/**
 * Start `roster-server serve` on a free port against `mongodbUri` (a fresh
 * database by default) and wait until it is SERVING.
 */
export async function startServer(
  options: {
    mongodbUri?: string;
    args?: string[];
    env?: Record<string, string>;
    /** Wait for the bootstrap admin key (default true). */
    expectBootstrap?: boolean;
    /** Wait for SERVING (default true); otherwise only for the listener. */
    waitUntilServing?: boolean;
    /** --data-dir; default a fresh temporary folder, removed when the server stops. */
    dataDir?: string;
  } = {},
): Promise<TestServer> {
  const mongodbUri = options.mongodbUri ?? testDatabaseUri();
  const ownDataDir = !options.dataDir && !options.env?.ROSTER_DATA_DIR;
  const dataDir = options.dataDir ?? options.env?.ROSTER_DATA_DIR ?? mkdtempSync(join(tmpdir(), "roster-test-data-"));
  const child = spawn(
    process.execPath,
    [
      serverMain,
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--log-level",
      "debug",
      "--data-dir",
      dataDir,
      ...(options.args ?? []),
    ],
    {
      cwd: projectRoot,
      env: { ...process.env, MONGODB_URI: mongodbUri, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  // Unreferenced: a server a failed test did not stop must not keep the test
  // process alive; the exit handler above kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void })?.unref?.();
  let out = "";
  let err = "";
  // The structured log of every test server is kept for the secret scan
  // that `npm test` runs after the suite (scripts/run-tests.ts).
  const logDir = process.env.ROSTER_TEST_LOG_DIR;
  const logFile = logDir
    ? createWriteStream(join(logDir, `server-${process.pid}-${randomBytes(4).toString("hex")}.log`))
    : undefined;
  child.stdout?.on("data", (d) => {
    out += d;
    logFile?.write(d);
  });
  child.once("exit", () => logFile?.end());
  child.stderr?.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + 60_000;
  const serving = () => options.waitUntilServing === false || out.includes('"msg":"serving"');
  let address = "";
  while (Date.now() < deadline) {
    address ||= /"address":"([^"]+)","database"/.exec(out)?.[1] ?? "";
    const bootstrapped = options.expectBootstrap === false || /rst_ak_\w+/.test(err);
    if (address && serving() && bootstrapped) break;
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!address || !serving()) {
    child.kill("SIGKILL");
    throw new Error(`server did not become ready:\n${out}\n${err}`);
  }
  return {
    url: `http://${address}`,
    address,
    adminKey: /rst_ak_\w+/.exec(err)?.[0] ?? "",
    mongodbUri,
    dataDir,
    process: child,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      // Waiting for the exit must keep this process alive.
      child.ref();
      if (child.exitCode === null) child.kill("SIGTERM");
      const code = await exited;
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
