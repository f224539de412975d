import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { grpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { readOutbox } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

// A timing test: scripts/run-tests.ts runs files named *.timing.test.js
// after the others, one at a time, so that other tests' load does not skew it.
describe("password reset request timing", () => {
  let s: TestServer | undefined;
  after(async () => {
    await s?.stop();
  });

  it("answers alike and as fast for a known and an unknown address (medians within 5 ms over 100 tries)", async (t) => {
    // Limits high enough that every request for the known address really mails a link.
    s = await startServer({ args: ["--reset-max-per-address", "100000", "--reset-max-per-client", "100000"] });
    const server = s;
    const user = await createUser(server, { userId: "timed-reset" });
    const self = grpcClient(server, "roster.v1.SelfService");
    const time = async (email: string) => {
      const started = performance.now();
      const answer = await self.call("RequestPasswordReset", { email });
      const ms = performance.now() - started;
      assert.deepEqual(answer, {});
      // The mailing runs after the answer; let it finish so that it does not slow the next try.
      await new Promise((r) => setTimeout(r, 100));
      return ms;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 10; i++) await time(`warm-up-${i}@example.com`);
    for (let i = 0; i < 100; i++) {
      // Either first, so that neither always follows the other's mailing.
      if (i % 2 === 0) {
        known.push(await time(user.email));
        unknown.push(await time(`ghost-${i}@example.com`));
      } else {
        unknown.push(await time(`ghost-${i}@example.com`));
        known.push(await time(user.email));
      }
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
    const [k, u] = [median(known), median(unknown)];
    t.diagnostic(`median: known address ${k.toFixed(2)} ms, unknown address ${u.toFixed(2)} ms`);
    assert.ok(Math.abs(k - u) < 5, `known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`);
    self.close();
    // And the known address did get its links.
    for (const deadline = Date.now() + 30_000; ; ) {
      const sent = (await readOutbox(server)).filter((m) => m.to === user.email && m.subject === "Reset your password");
      if (sent.length === 100) break;
      assert.ok(Date.now() < deadline, `${sent.length} of 100 reset emails sent`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});
