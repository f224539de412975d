/**
 * `npm test`: start a database for the tests (MONGODB_URI if set, otherwise
 * an embedded one in a temporary folder, never ./data), run every
 * `dist/test/**\/*.test.js` with node's test runner, stop the database, and
 * exit with the runner's code. Extra arguments select test files by name.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { startEmbeddedDatabase } from "../server/database/embedded-database.js";
import { projectRoot } from "../server/paths.js";
import { scanLogsForSecrets } from "./secret-scan.js";

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".test.js") ? [join(dir, e.name)] : [],
  );
}

const filters = process.argv.slice(2);
const files = testFiles(join(projectRoot, "dist", "test"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const dataDir = mkdtempSync(join(tmpdir(), "roster-test-db-"));
const logDir = mkdtempSync(join(tmpdir(), "roster-test-logs-"));
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
/**
 * One run of node's test runner over `list`, `width` files at a time; its
 * TAP summary (pass/fail counts) is read back from a second reporter.
 */
async function runFiles(list: string[], width: string): Promise<{ code: number; pass: number; fail: number }> {
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
      env: {
        ...process.env,
        ROSTER_TEST_MONGODB_URI: baseUri,
        ROSTER_TEST_DATABASE_KIND: embedded?.kind ?? "external",
        ROSTER_TEST_LOG_DIR: logDir,
      },
    },
  );
  const code: number = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  const text = readFileSync(tap, "utf8");
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  return { code, pass: count("pass"), fail: count("fail") };
}

// Timing tests run last and alone, so that the others' load does not skew them.
const timing = files.filter((f) => f.endsWith(".timing.test.js"));
const first = await runFiles(
  files.filter((f) => !timing.includes(f)),
  concurrency,
);
const second = await runFiles(timing, "1");
let code = first.code || second.code;
process.stderr.write(`[tests] all runs: ${first.pass + second.pass} passed, ${first.fail + second.fail} failed\n`);
await embedded?.stop();
rmSync(dataDir, { recursive: true, force: true });

// No password or token may reach a server's structured log.
const scan = scanLogsForSecrets(logDir, join(projectRoot, "dist", "test"));
process.stderr.write(`[secret scan] ${scan.files} server logs, ${scan.findings.length} secrets found\n`);
for (const finding of scan.findings) process.stderr.write(`[secret scan] ${finding}\n`);
if (scan.findings.length > 0) code = code || 1;
rmSync(logDir, { recursive: true, force: true });
process.exit(code);
