/**
 * `npm test`: run the unit tests (`dist/test/unit/`, in-process, no
 * database) first; then start a database for the other tests (MONGODB_URI
 * if set, otherwise an embedded one in a temporary folder, never ./data),
 * run every other `dist/test/**\/*.test.js` with node's test runner, stop
 * the database, and exit with the runners' code. `--unit` runs the unit
 * tests alone (`npm run test:unit`). Extra arguments select test files by
 * name.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { startEmbeddedDatabase } from "../server/database/embedded-database.js";
import { projectRoot } from "../server/runtime/paths.js";
import { scanLogsForSecrets } from "./secret-scan.js";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".test.js") ? [join(dir, e.name)] : [],
  );
}

const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filters = args.filter((a) => a !== "--unit");
const unitDir = join(projectRoot, "dist", "test", "unit");
const selected = testFiles(join(projectRoot, "dist", "test"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const unitFiles = selected.filter((f) => f.startsWith(`${unitDir}/`));
const files = unitOnly ? [] : selected.filter((f) => !unitFiles.includes(f));
const logDir = mkdtempSync(join(tmpdir(), "roster-test-logs-"));

/**
 * One run of node's test runner over `list`, `width` files at a time; its
 * TAP summary (pass/fail counts) is read back from a second reporter.
 * `env` adds to the environment (the database of the tests).
 */
async function runFiles(
  list: string[],
  width: string,
  env: Record<string, string> = {},
): Promise<{ code: number; pass: number; fail: number }> {
  if (list.length === 0) return { code: 0, pass: 0, fail: 0 };
  const tap = join(logDir, `summary-${Date.now()}.tap`);
  const child = spawn(
    process.execPath,
    [
      "--test",
      `--test-concurrency=${width}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=tap",
      `--test-reporter-destination=${tap}`,
      ...list.map((f) => relative(projectRoot, f)),
    ],
    {
      cwd: projectRoot,
      stdio: "inherit",
      env: { ...process.env, ROSTER_TEST_LOG_DIR: logDir, ...env },
    },
  );
  const code: number = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  const text = readFileSync(tap, "utf8");
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  return { code, pass: count("pass"), fail: count("fail") };
}

// Unit tests need no database: they run first, and alone with --unit (or
// when the names given select no other test).
const unitStarted = Date.now();
const unit = await runFiles(unitFiles, "2");
if (unitFiles.length > 0) {
  const seconds = ((Date.now() - unitStarted) / 1000).toFixed(1);
  process.stderr.write(`[tests] unit: ${unit.pass} passed, ${unit.fail} failed in ${seconds} s\n`);
}
if (files.length === 0) {
  rmSync(logDir, { recursive: true, force: true });
  process.exit(unit.code);
}

const dataDir = mkdtempSync(join(tmpdir(), "roster-test-db-"));
const embedded = process.env.MONGODB_URI
  ? undefined
  : await startEmbeddedDatabase({
      dataDir,
      cacheDir: process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache"),
      log: (msg) => process.stderr.write(`[test database] ${msg}\n`),
    });
const baseUri = process.env.MONGODB_URI ?? (embedded?.uri as string);

const concurrency = process.env.ROSTER_TEST_CONCURRENCY ?? "2";
process.stderr.write(
  `[tests] ${files.length} files on ${embedded?.kind ?? "MONGODB_URI"}, concurrency ${concurrency}\n`,
);
// Timing tests run last and alone, so that the others' load does not skew them.
const timing = files.filter((f) => f.endsWith(".timing.test.js"));
const databaseEnv = { ROSTER_TEST_MONGODB_URI: baseUri, ROSTER_TEST_DATABASE_KIND: embedded?.kind ?? "external" };
const first = await runFiles(
  files.filter((f) => !timing.includes(f)),
  concurrency,
  databaseEnv,
);
const second = await runFiles(timing, "1", databaseEnv);
let code = unit.code || first.code || second.code;
const runs = [unit, first, second];
const total = (key: "pass" | "fail") => runs.reduce((sum, run) => sum + run[key], 0);
process.stderr.write(`[tests] all runs: ${total("pass")} passed, ${total("fail")} failed\n`);
await embedded?.stop();
rmSync(dataDir, { recursive: true, force: true });

// No password or token may reach a server's structured log.
const scan = scanLogsForSecrets(logDir, join(projectRoot, "dist", "test"));
process.stderr.write(`[secret scan] ${scan.files} server logs, ${scan.findings.length} secrets found\n`);
for (const finding of scan.findings) process.stderr.write(`[secret scan] ${finding}\n`);
if (scan.findings.length > 0) code = code || 1;
rmSync(logDir, { recursive: true, force: true });
process.exit(code);
