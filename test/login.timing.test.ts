import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

// A timing test: scripts/run-tests.ts runs files named *.timing.test.js
// after the others, one at a time, so that other tests' load does not skew it.
describe("login timing", () => {
  let s: TestServer | undefined;
  after(async () => {
    await s?.stop();
  });

  it("takes as long for an unknown user as for a wrong password (medians within 5 ms over 200 tries)", async (t) => {
    s = await startServer({ args: ["--login-max-failures", "100000"] });
    await createUser(s, { userId: "timed-user", password: "the right passphrase" });
    const access = grpcClient(s, "roster.v1.UserAccess");
    const time = async (userId: string) => {
      const started = performance.now();
      await rejectsWith(
        access.call("Authenticate", { user_id_or_email: userId, password: "not the password" }),
        grpc.status.UNAUTHENTICATED,
      );
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 10; i++) await time("timed-user"); // warm up
    for (let i = 0; i < 200; i++) {
      known.push(await time("timed-user"));
      unknown.push(await time(`ghost-${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
    const [k, u] = [median(known), median(unknown)];
    t.diagnostic(`median: wrong password ${k.toFixed(2)} ms, unknown user ${u.toFixed(2)} ms`);
    assert.ok(Math.abs(k - u) < 5, `wrong password ${k.toFixed(1)} ms, unknown user ${u.toFixed(1)} ms`);
    access.close();
  });
});
