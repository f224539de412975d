/**
 * GetUser calls per second with 16 concurrent callers, over gRPC and over
 * Connect, against two ceilings measured in the same rounds: a raw driver
 * `findOne({_id})` of the same fields, and health Check on the same
 * transport (an RPC that does nothing). Targets: >= 1,000/s and >= 0.8 of
 * the lower ceiling.
 *
 *   node dist/bench/get-user.js      (ROSTER_BENCH_USERS, default 100,000)
 */
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { type BenchEnvironment, isMain, runAlone, type TransportName } from "./support/environment.js";
import { interleaved, report, throughput } from "./support/measure.js";

const callers = 16;
const seconds = 2;

export async function measureGetUser(env: BenchEnvironment): Promise<void> {
  const raw = env.db.collection<{ _id: string }>("users");
  // Spread over the whole collection: the last users cost a scan the most.
  const pick = (i: number) => env.userIds[(i * 7919) % env.userIds.length] as string;
  const fields = ["name", "primary_email_address", "state"];
  const projection = {
    _id: 0,
    user_id: 1,
    created_at: 1,
    updated_at: 1,
    deleted_at: 1,
    name: 1,
    primary_email_address: 1,
    state: 1,
  };
  for (const transport of ["gRPC", "Connect"] as TransportName[]) {
    const users = env.client(UserRegistry, transport);
    const health = env.client(Health, transport);
    const v = await interleaved(3, {
      echo: () => throughput(callers, seconds * 1000, () => health.check({ service: "" })),
      get: () =>
        throughput(callers, seconds * 1000, (i) =>
          users.get({ userId: pick(i), fieldMask: { paths: fields } }, { headers: env.headers }),
        ),
      raw: () => throughput(callers, seconds * 1000, (i) => raw.findOne({ _id: pick(i) }, { projection })),
    });
    report(`GetUser over ${transport}`, v.get, "calls/s", { op: ">=", value: 1000 });
    report(`  raw driver findOne({_id})`, v.raw, "calls/s");
    report(`  health Check over ${transport} (echo)`, v.echo, "calls/s");
    report(
      `  GetUser / min(findOne, echo) over ${transport}`,
      v.get.map((g, i) => g / Math.min(v.raw[i] as number, v.echo[i] as number)),
      "x",
      { op: ">=", value: 0.8 },
    );
  }
}

if (isMain(import.meta.url)) await runAlone("GetUser", measureGetUser);
