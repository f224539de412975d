/**
 * Search latency for a first page of 100 over the whole collection: a name
 * that 0.1% of users have, free text over id, name and description, an
 * email fragment, a state filter, and an attribute. Target: each under 500 ms.
 *
 *   node dist/bench/search.js
 */
import { State } from "../gen/roster/v1/user_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { type BenchEnvironment, isMain, runAlone } from "./support/environment.js";
import { interleaved, latency, report } from "./support/measure.js";

const samples = 5;

export async function measureSearch(env: BenchEnvironment): Promise<void> {
  const users = env.client(UserRegistry, "gRPC");
  const search = (request: Parameters<typeof users.search>[0]) => () =>
    latency(samples, () => users.search({ limit: 100, ...request }, { headers: env.headers }));
  const v = await interleaved(3, {
    name: search({ nameContains: "lovelace" }),
    query: search({ query: "Lovelace" }),
    email: search({ emailContains: "-0099" }),
    state: search({ state: [State.REQUESTED] }),
    attribute: search({ attributesContain: { team: "t16" } }),
  });
  const target = { op: "<=", value: 500 } as const;
  report("Search name_contains (0.1% match)", v.name, "ms", target);
  report("Search query over id, name, description", v.query, "ms", target);
  report("Search email_contains", v.email, "ms", target);
  report("Search state REQUESTED (2% match)", v.state, "ms", target);
  report("Search attributes_contain", v.attribute, "ms", target);
}

if (isMain(import.meta.url)) await runAlone("Search", measureSearch);
