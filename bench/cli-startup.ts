/**
 * `npm run bench:cli`: how long `roster --version` takes to start, as a
 * ratio to `node -e 0` on the same machine (target: under 3x). The two run
 * interleaved, so that a machine that slows down or speeds up mid-run
 * weighs on both alike; medians keep one slow run from deciding.
 *
 *   node dist/bench/cli-startup.js [runs]    (default 30)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../server/runtime/paths.js";

const runs = Number(process.argv[2] ?? 30);
const target = 3;
const roster = join(projectRoot, "dist", "cli", "main.js");

const commands: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "roster --version": [roster, "--version"],
  "roster users list --help": [roster, "users", "list", "--help"],
};

function timeOnce(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited with ${result.status}`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, [] as number[]]));
// One warm-up round fills the file system cache before anything counts.
for (const args of Object.values(commands)) timeOnce(args);
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(commands)) samples[name]?.push(timeOnce(args));
}

const baseline = median(samples["node -e 0"] as number[]);
console.log(`${runs} runs each, interleaved; medians:`);
for (const [name, values] of Object.entries(samples)) {
  const m = median(values);
  console.log(`  ${name.padEnd(26)} ${m.toFixed(1).padStart(7)} ms  ${(m / baseline).toFixed(2)}x`);
}
const ratio = median(samples["roster --version"] as number[]) / baseline;
console.log(
  `roster --version / node -e 0 = ${ratio.toFixed(2)} (target < ${target}): ${ratio < target ? "ok" : "TOO SLOW"}`,
);
process.exitCode = ratio < target ? 0 : 1;
