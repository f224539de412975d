/**
 * Authenticate (password logins by user id and by email) per second with 16
 * concurrent callers, against a raw Argon2id verify of the same password
 * with the server's default parameters (m=19 MiB, t=2, p=1) and its default
 * limit of 4 hashes at once, in interleaved rounds. Target: >= 0.9.
 *
 *   node dist/bench/authenticate.js
 */
import { hash, verify } from "@node-rs/argon2";
import { UserAccess } from "../gen/roster/v1/user_access_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { createSemaphore } from "../server/access/semaphore.js";
import { defaultConfig } from "../server/config.js";
import { type BenchEnvironment, isMain, runAlone } from "./support/environment.js";
import { interleaved, ratios, report, throughput } from "./support/measure.js";

const callers = 16;
const seconds = 3;
/** The server's configuration without flags: its Argon2id parameters and hashes at once. */
const { hashParameters: parameters, hashConcurrency } = await defaultConfig();
const password = "a long enough bench passphrase";

export async function measureAuthenticate(env: BenchEnvironment): Promise<void> {
  const registry = env.client(UserRegistry, "gRPC");
  const access = env.client(UserAccess, "gRPC");
  const ids = Array.from({ length: 32 }, (_, i) => `login-${i}`);
  for (const id of ids) {
    await registry.create(
      { user: { userId: id, primaryEmailAddress: `${id}@example.com` }, password },
      { headers: env.headers },
    );
  }
  const stored = await hash(password, parameters);
  const slots = createSemaphore(hashConcurrency);
  const v = await interleaved(3, {
    byId: () =>
      throughput(callers, seconds * 1000, (i) =>
        access.authenticate({ userIdOrEmail: ids[i % ids.length] as string, password }),
      ),
    byEmail: () =>
      throughput(callers, seconds * 1000, (i) =>
        access.authenticate({ userIdOrEmail: `${ids[i % ids.length]}@example.com`, password }),
      ),
    raw: () => throughput(callers, seconds * 1000, () => slots.run(() => verify(stored, password))),
  });
  report("Authenticate by user id over gRPC", v.byId, "logins/s");
  report("Authenticate by email over gRPC", v.byEmail, "logins/s");
  report(`  raw Argon2id verify (${hashConcurrency} at once)`, v.raw, "verifies/s");
  report("  Authenticate by id / verify", ratios(v.byId, v.raw), "x", { op: ">=", value: 0.9 });
  report("  Authenticate by email / verify", ratios(v.byEmail, v.raw), "x", { op: ">=", value: 0.9 });
}

if (isMain(import.meta.url)) await runAlone("Authenticate", measureAuthenticate);
