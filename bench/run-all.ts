/**
 * `npm run bench`: every measure, on one server and database seeded with
 * 100,000 users through UserBulk.Import (ROSTER_BENCH_USERS to change),
 * then the import and CLI start-up benchmarks (each starts what it needs),
 * then a summary of every figure with its target.
 *
 *   node dist/bench/run-all.js [--markdown <file>]   (writes the summary table there too)
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../server/runtime/paths.js";
import { measureAuthenticate } from "./authenticate.js";
import { measureCreate } from "./create-user.js";
import { measureExport } from "./export.js";
import { measureGetUser } from "./get-user.js";
import { measureListPages } from "./list-pages.js";
import { measureSearch } from "./search.js";
import { startBenchEnvironment } from "./support/environment.js";
import { markdownTable, results } from "./support/measure.js";
import { measureUpdate } from "./update-user.js";

const markdownAt = process.argv.indexOf("--markdown");
const markdownFile = markdownAt > 0 ? process.argv[markdownAt + 1] : undefined;

const machine = `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`Roster benchmarks on ${machine}`);
const env = await startBenchEnvironment();
try {
  console.log(
    `${env.userIds.length} users on ${env.databaseKind}; values are median [min .. max] of 3 interleaved rounds`,
  );
  for (const [name, measure] of [
    ["GetUser", measureGetUser],
    ["List pages", measureListPages],
    ["Search", measureSearch],
    ["Export", measureExport],
    ["Authenticate", measureAuthenticate],
    ["Update", measureUpdate],
    ["Create", measureCreate],
  ] as const) {
    console.log(`== ${name}`);
    await measure(env);
  }
} finally {
  await env.stop();
}

for (const script of ["import-throughput.js", "cli-startup.js"]) {
  console.log(`== ${script}`);
  const run = spawnSync(process.execPath, [join(projectRoot, "dist", "bench", script)], { stdio: "inherit" });
  if (run.status !== 0) console.log(`  ${script} exited with ${run.status}`);
}

const missed = results.filter((r) => r.met === false);
console.log(`\n== Summary: ${results.filter((r) => r.target).length} targets, ${missed.length} missed`);
const table = markdownTable();
console.log(table);
if (markdownFile) writeFileSync(markdownFile, `Measured on ${machine}, ${env.databaseKind}.\n\n${table}\n`);
