import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer, testDatabaseUri } from "./support/server.js";

describe("login throttling and timing", () => {
  const servers: TestServer[] = [];
  const clients: GrpcClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop()));
  });
  const start = async (options: Parameters<typeof startServer>[0]) => {
    const s = await startServer(options);
    servers.push(s);
    return s;
  };
  const accessOf = (s: TestServer) => {
    const c = grpcClient(s, "roster.v1.UserAccess");
    clients.push(c);
    return c;
  };

  it("counts every one of 20 parallel wrong passwords across two server processes, locks the account, then unlocks it", async () => {
    const mongodbUri = testDatabaseUri();
    // With the threshold at 20, every one of the 20 parallel attempts finds
    // the account still open and is verified, so each must be counted.
    // Locks long enough that a loaded machine cannot outlast them between the burst and the checks.
    const lock = ["--login-max-failures", "20", "--login-lockout", "8s", "--login-max-lockout", "10s"];
    const one = await start({ mongodbUri, args: lock });
    const two = await start({ mongodbUri, args: lock, expectBootstrap: false });
    await createUser(one, { userId: "target", password: "the right passphrase" });
    const [a, b] = [accessOf(one), accessOf(two)];
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).call("Authenticate", { user_id_or_email: "target", password: `wrong guess ${i}` }),
      ),
    );
    assert.ok(attempts.every((r) => r.status === "rejected"));
    const db = new MongoClient(mongodbUri);
    const failures = await db.db().collection("login_attempts").countDocuments({});
    await db.close();
    assert.equal(failures, 20, "no failure was lost, on either server");
    const lockedAt = Date.now();
    const locked = await rejectsWith(
      b.call("Authenticate", { user_id_or_email: "target", password: "the right passphrase" }),
      grpc.status.UNAUTHENTICATED,
    );
    const wrong = await rejectsWith(
      a.call("Authenticate", { user_id_or_email: "target", password: "another wrong one" }),
      grpc.status.UNAUTHENTICATED,
    );
    assert.equal(locked.details, wrong.details, "a locked account looks like a wrong password");
    await rejectsWith(
      a.call("Authenticate", { user_id_or_email: "Target@Example.com", password: "the right passphrase" }),
      grpc.status.UNAUTHENTICATED,
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 10_300 - (Date.now() - lockedAt))));
    const ok = await a.call("Authenticate", { user_id_or_email: "target", password: "the right passphrase" });
    assert.equal(ok.user_id, "target");
  });

  it("checks at most the configured number of guesses from a burst of 100 concurrent wrong passwords", async () => {
    const mongodbUri = testDatabaseUri();
    const one = await start({ mongodbUri, args: ["--login-max-failures", "10"] });
    const two = await start({ mongodbUri, args: ["--login-max-failures", "10"], expectBootstrap: false });
    await createUser(one, { userId: "burst-target", password: "the right passphrase" });
    const [a, b] = [accessOf(one), accessOf(two)];
    const burst = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).call("Authenticate", { user_id_or_email: "burst-target", password: `wrong guess ${i}` }),
      ),
    );
    assert.ok(burst.every((r) => r.status === "rejected"));
    const db = new MongoClient(mongodbUri);
    // Every attempt is counted before its password is checked, so the count is the number checked.
    const counted = await db.db().collection("login_attempts").countDocuments({});
    await db.close();
    assert.equal(counted, 10, "exactly the limit of guesses was checked");
    await rejectsWith(
      a.call("Authenticate", { user_id_or_email: "burst-target", password: "the right passphrase" }),
      grpc.status.UNAUTHENTICATED,
    );
  });

  it("refuses the right password sent in the middle of a burst, once the burst has used up the limit", async () => {
    const mongodbUri = testDatabaseUri();
    const s = await start({ mongodbUri, args: ["--login-max-failures", "10"] });
    await createUser(s, { userId: "burst-right", password: "the right passphrase" });
    const access = accessOf(s);
    // Which of many concurrent calls is counted first is up to the network
    // and the scheduler, so the right password is sent once ten guesses of
    // the still-running burst are counted, as the 50th call of 60.
    const wrong = Promise.allSettled(
      Array.from({ length: 59 }, (_, i) =>
        access.call("Authenticate", { user_id_or_email: "burst-right", password: `wrong guess ${i}` }),
      ),
    );
    const db = new MongoClient(mongodbUri);
    try {
      while ((await db.db().collection("login_attempts").countDocuments({})) < 10) {
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await db.close();
    }
    const right = access.call("Authenticate", { user_id_or_email: "burst-right", password: "the right passphrase" });
    const [answered, rightAnswer] = await Promise.all([
      wrong,
      right.then(
        () => "accepted",
        () => "refused",
      ),
    ]);
    assert.equal(rightAnswer, "refused", "the right password in the burst did not get in");
    assert.ok(answered.every((r) => r.status === "rejected"));
  });

  it("stores nothing for failed logins on ids that do not exist, and successful logins stay fast", async () => {
    const mongodbUri = testDatabaseUri();
    // Cheap hashes, so that 3,000 attempts take seconds, not minutes.
    const cheap = ["--argon2-memory", "1024", "--argon2-iterations", "1"];
    const s = await start({ mongodbUri, args: cheap });
    await createUser(s, { userId: "steady", password: "the right passphrase" });
    const access = accessOf(s);
    const medianLogin = async () => {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        await access.call("Authenticate", { user_id_or_email: "steady", password: "the right passphrase" });
        times.push(performance.now() - started);
      }
      return [...times].sort((x, y) => x - y)[15] as number;
    };
    const db = new MongoClient(mongodbUri);
    const stored = async () => {
      const counts: Record<string, number> = {};
      for (const c of await db.db().listCollections().toArray()) {
        // The mail queue's deliveries (and their claims) run on their own time, and so does
        // the removal of the audit trail's closed intents.
        if (c.name === "email_queue" || c.name === "claims" || c.name === "event_intents") continue;
        counts[c.name] = await db.db().collection(c.name).countDocuments({});
      }
      return counts;
    };
    const before = await medianLogin();
    const storedBefore = await stored();
    for (let round = 0; round < 60; round++) {
      await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          access.call("Authenticate", { user_id_or_email: `nobody-${round}-${i}`, password: "a wrong guess" }),
        ),
      );
    }
    assert.deepEqual(await stored(), storedBefore, "3,000 failures on unknown ids stored nothing");
    await db.close();
    const afterwards = await medianLogin();
    assert.ok(
      afterwards < before * 2 + 20,
      `median login ${before.toFixed(1)} ms before, ${afterwards.toFixed(1)} ms after`,
    );
  });

  it("rehashes a password made with other parameters at the next login", async () => {
    const mongodbUri = testDatabaseUri();
    const old = await start({ mongodbUri, args: ["--argon2-iterations", "3", "--argon2-memory", "8192"] });
    await createUser(old, { userId: "old-hash", password: "the right passphrase" });
    const db = new MongoClient(mongodbUri);
    const hashOf = async () =>
      (
        await db
          .db()
          .collection("users")
          .findOne({ _id: "old-hash" as never })
      )?.password_hash;
    assert.match(await hashOf(), /^\$argon2id\$v=19\$m=8192,t=3,p=1\$/);
    const current = await start({ mongodbUri, expectBootstrap: false });
    await accessOf(current).call("Authenticate", { user_id_or_email: "old-hash", password: "the right passphrase" });
    assert.match(await hashOf(), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await accessOf(current).call("Authenticate", { user_id_or_email: "old-hash", password: "the right passphrase" });
    await db.close();
  });
});
