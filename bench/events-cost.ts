/**
 * What recording events costs: Update throughput and GetUser latency on a
 * server that records events, as ratios to the same operations on a second
 * server on the same database with `--record-events=false`, measured in one
 * run in interleaved rounds. Targets (issue 13): Update with events at least
 * 0.9 of Update without; reads unchanged (at least 0.95).
 *
 *   npm run bench:events     (ROSTER_BENCH_USERS users, default 5,000)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { startBenchEnvironment, startRoster } from "./support/environment.js";
import { interleaved, latency, ratios, report, throughput } from "./support/measure.js";

const callers = 16;
const seconds = 3;

const env = await startBenchEnvironment({ users: Number(process.env.ROSTER_BENCH_USERS ?? 5000) });
const dataDir = mkdtempSync(join(tmpdir(), "roster-bench-noevents-"));
const quiet = await startRoster(env.mongodbUri, dataDir, { args: ["--record-events=false"], expectKey: false });
try {
  console.log(`== Events cost (${env.userIds.length} users, ${env.databaseKind})`);
  const withEvents = env.client(UserRegistry, "gRPC");
  const without = createClient(UserRegistry, createGrpcTransport({ baseUrl: quiet.url }));
  const pick = (i: number) => env.userIds[(i * callers * 31) % env.userIds.length] as string;
  let round = 0;
  const update = (client: typeof withEvents) => () => {
    const r = round++;
    return throughput(callers, seconds * 1000, (i) =>
      client.update(
        { user: { userId: pick(i), name: `Renamed ${r} ${i}` }, updateMask: { paths: ["name"] } },
        { headers: env.headers },
      ),
    );
  };
  const get = (client: typeof withEvents) => () =>
    latency(300, (i) => client.get({ userId: pick(i) }, { headers: env.headers }));
  const v = await interleaved(3, {
    updateWith: update(withEvents),
    updateWithout: update(without),
    getWith: get(withEvents),
    getWithout: get(without),
  });
  report("Update, events recorded", v.updateWith, "calls/s");
  report("Update, events off", v.updateWithout, "calls/s");
  report("  Update with / without events", ratios(v.updateWith, v.updateWithout), "x", { op: ">=", value: 0.9 });
  report("GetUser, events recorded", v.getWith, "ms");
  report("GetUser, events off", v.getWithout, "ms");
  report("  GetUser latency with / without events", ratios(v.getWith, v.getWithout), "x", { op: "<=", value: 1.05 });
} finally {
  quiet.process.kill("SIGTERM");
  await env.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
