/**
 * Update calls per second (16 concurrent callers, each on its own users, a
 * name change with an update mask) against a raw driver `updateOne` with
 * `$set` of the same field, in interleaved rounds. No target: Update guards
 * every change with a write lock (server/store/write-locks.ts), so it costs at least
 * two writes to the raw one.
 *
 *   node dist/bench/update-user.js
 */
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { type BenchEnvironment, isMain, runAlone } from "./support/environment.js";
import { interleaved, ratios, report, throughput } from "./support/measure.js";

const callers = 16;
const seconds = 3;

export async function measureUpdate(env: BenchEnvironment): Promise<void> {
  const raw = env.db.collection<{ _id: string; name: string }>("users");
  const users = env.client(UserRegistry, "gRPC");
  // Caller c updates users c, c + 16, c + 32, ...: no two callers share a user.
  const pick = (i: number) => env.userIds[(i * callers * 31) % env.userIds.length] as string;
  let round = 0;
  const v = await interleaved(3, {
    update: () => {
      const r = round++;
      return throughput(callers, seconds * 1000, (i) =>
        users.update(
          { user: { userId: pick(i), name: `Renamed ${r} ${i}` }, updateMask: { paths: ["name"] } },
          { headers: env.headers },
        ),
      );
    },
    raw: () => {
      const r = round++;
      return throughput(callers, seconds * 1000, (i) =>
        raw.updateOne({ _id: pick(i + 7) }, { $set: { name: `Raw ${r} ${i}` } }),
      );
    },
  });
  report("Update over gRPC", v.update, "calls/s");
  report("  raw driver updateOne", v.raw, "calls/s");
  report("  Update / updateOne", ratios(v.update, v.raw), "x");
}

if (isMain(import.meta.url)) await runAlone("Update", measureUpdate);
