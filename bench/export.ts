/**
 * Export of every user through UserBulk.Export (gRPC stream, batches of
 * 100): users per second, time to the first batch, and the server's peak
 * resident memory while it streams (sampled every 50 ms from /proc). Target:
 * peak RSS under 150 MiB.
 *
 *   node dist/bench/export.js
 */
import { UserBulk } from "../gen/roster/v1/user_bulk_pb.js";
import { type BenchEnvironment, isMain, rssMiB, runAlone } from "./support/environment.js";
import { report } from "./support/measure.js";

export async function measureExport(env: BenchEnvironment): Promise<void> {
  const bulk = env.client(UserBulk, "gRPC");
  const rates: number[] = [];
  const firsts: number[] = [];
  const peaks: number[] = [];
  for (let round = 0; round < 3; round++) {
    let peak = rssMiB(env.server.pid);
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(env.server.pid));
    }, 50);
    const started = performance.now();
    let first = 0;
    let count = 0;
    try {
      for await (const res of bulk.export({}, { headers: env.headers, timeoutMs: 300_000 })) {
        if (!first && res.users.length > 0) first = performance.now() - started;
        count += res.users.length;
      }
    } finally {
      clearInterval(sampler);
    }
    if (count < env.userIds.length) throw new Error(`exported ${count} users`);
    rates.push(count / ((performance.now() - started) / 1000));
    firsts.push(first);
    peaks.push(peak);
  }
  report("Export", rates, "users/s");
  report("  Export: first batch after", firsts, "ms");
  report("  Export: server peak RSS", peaks, "MiB", { op: "<=", value: 150 });
}

if (isMain(import.meta.url)) await runAlone("Export", measureExport);
