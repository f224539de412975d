import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../../server/runtime/paths.js";
import { serverMain, startServer, type TestServer } from "./server.js";

const run = promisify(execFile);

/** A data folder of its own for a test, removed by `remove()`. */
export function dataFolder(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "roster-faults-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The environment of a server (or admin command) on `dataDir` with its embedded database. */
export function embeddedEnv(dataDir: string): Record<string, string> {
  return { MONGODB_URI: "", ROSTER_DATA_DIR: dataDir };
}

/** Start `roster-server serve` on `dataDir` with its own embedded FerretDB. */
export function startEmbeddedServer(
  dataDir: string,
  options: { args?: string[]; expectBootstrap?: boolean } = {},
): Promise<TestServer> {
  return startServer({ dataDir, env: embeddedEnv(dataDir), ...options });
}

/** pid of the embedded database process of `dataDir` (from its pid file). */
export function databasePid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "db", "ferretdb.pid"), "utf8"));
}

/** Send `signal` to the embedded database of `dataDir` (SIGKILL, SIGSTOP, SIGCONT). */
export function signalDatabase(dataDir: string, signal: NodeJS.Signals): number {
  const pid = databasePid(dataDir);
  process.kill(pid, signal);
  return pid;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Run `roster-server <args>` against `dataDir`, as an operator would. */
export async function runServerCommand(
  dataDir: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(process.execPath, [serverMain, ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...embeddedEnv(dataDir) },
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "", ms: Date.now() - started };
  }
}

/** GET /healthz: true when it answers 200 SERVING, false on 503 or no answer within a second. */
export async function healthy(server: TestServer): Promise<boolean> {
  try {
    const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Poll `condition` every 50 ms until it holds; returns the ms it took, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
