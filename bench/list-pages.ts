/**
 * List latency: page 1, and pages at depth 100 and 1,000 (of 100 users
 * each), reached by page token (keyset) and by page number (offset), in the
 * default order (user id) and by creation time. Targets: a keyset page at
 * depth 1,000 within 1.3x of page 1 and under 50 ms.
 *
 *   node dist/bench/list-pages.js
 */
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { type BenchEnvironment, isMain, runAlone } from "./support/environment.js";
import { interleaved, latency, ratios, report } from "./support/measure.js";

const limit = 100;
const samples = 15;

export async function measureListPages(env: BenchEnvironment): Promise<void> {
  const users = env.client(UserRegistry, "gRPC");
  const headers = env.headers;
  const depths = [100, Math.min(1000, Math.floor(env.userIds.length / limit))];
  for (const order of ["", "created_at"]) {
    // Walk the pages once, keeping the tokens that lead to each depth.
    const tokens = new Map<number, string>();
    let token = "";
    for (let page = 1; page < (depths[1] as number); page++) {
      const res = await users.list({ limit, order, pageToken: token }, { headers });
      token = res.nextPageToken;
      if (depths.includes(page + 1)) tokens.set(page + 1, token);
    }
    const list = (request: { page?: number; pageToken?: string }) => () =>
      latency(samples, () => users.list({ limit, order, ...request }, { headers }));
    const v = await interleaved(3, {
      first: list({}),
      keyset100: list({ pageToken: tokens.get(depths[0] as number) }),
      keyset1000: list({ pageToken: tokens.get(depths[1] as number) }),
      offset100: list({ page: depths[0] }),
      offset1000: list({ page: depths[1] }),
    });
    const by = order ? `order ${order}` : "order user_id";
    report(`List page 1 (${by})`, v.first, "ms");
    report(`List page ${depths[0]} by token (${by})`, v.keyset100, "ms");
    report(`List page ${depths[1]} by token (${by})`, v.keyset1000, "ms", { op: "<=", value: 50 });
    report(`  page ${depths[1]} by token / page 1`, ratios(v.keyset1000, v.first), "x", { op: "<=", value: 1.3 });
    report(`List page ${depths[0]} by number (${by})`, v.offset100, "ms");
    report(`List page ${depths[1]} by number (${by})`, v.offset1000, "ms");
    report(`  page ${depths[1]} by number / page 1`, ratios(v.offset1000, v.first), "x");
  }
}

if (isMain(import.meta.url)) await runAlone("List pages", measureListPages);
