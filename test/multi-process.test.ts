/**
 * Three Roster processes on one database, as docs/scaling.md describes them
 * behind a load balancer: while a background load of creates, reads, lists
 * and searches runs through all three, the guarantees that processes agree
 * on through the database still hold — one winner among concurrent creates
 * of one id or one email, one winner among etag-guarded updates of one
 * version, no lost change among unguarded ones, and one failed-login count
 * per account.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer, testDatabaseUri } from "./support/server.js";

const maxFailures = 6;

describe("three server processes on one database, under load", () => {
  const servers: TestServer[] = [];
  const clients: GrpcClient[] = [];
  let users: GrpcClient[] = [];
  let access: GrpcClient[] = [];
  let settings: GrpcClient[] = [];
  let stopLoad = false;
  let load: Promise<{ calls: number; failures: string[] }>;

  const client = (server: TestServer, service: string, key = server.adminKey) => {
    const c = grpcClient(server, service, key);
    clients.push(c);
    return c;
  };
  /** The i-th of `n` calls goes to process i mod 3. */
  const spread = <T>(n: number, call: (i: number, process: number) => Promise<T>) =>
    Promise.allSettled(Array.from({ length: n }, (_, i) => call(i, i % 3)));
  const codes = (results: PromiseSettledResult<unknown>[]) =>
    results.map((r) => (r.status === "fulfilled" ? 0 : ((r.reason as { code?: number }).code ?? -1)));

  before(async () => {
    const mongodbUri = testDatabaseUri();
    const args = ["--login-max-failures", String(maxFailures), "--login-lockout", "1m"];
    const first = await startServer({ mongodbUri, args });
    servers.push(first);
    for (let i = 0; i < 2; i++) {
      const other = await startServer({ mongodbUri, args, expectBootstrap: false });
      servers.push({ ...other, adminKey: first.adminKey });
    }
    users = servers.map((s) => client(s, "roster.v1.UserRegistry"));
    access = servers.map((s) => client(s, "roster.v1.UserAccess"));
    settings = servers.map((s) => client(s, "roster.v1.UserSettings"));

    // The background load: every process creates, reads, lists and searches
    // until the tests are done. Only INTERNAL or UNAVAILABLE would be wrong.
    load = (async () => {
      let calls = 0;
      const failures: string[] = [];
      const worker = async (w: number) => {
        for (let n = 0; !stopLoad; n++) {
          const u = users[(w + n) % 3] as GrpcClient;
          const id = `load-${w}-${n}`;
          for (const [method, request] of [
            ["Create", { user: { user_id: id, primary_email_address: `${id}@example.com`, name: `Load ${n}` } }],
            ["Get", { user_id: id }],
            ["List", { limit: 20 }],
            ["Search", { name_contains: "load", limit: 20 }],
          ] as const) {
            try {
              await u.call(method, request);
            } catch (e) {
              failures.push(`${method}: ${(e as Error).message}`);
            }
            calls++;
          }
        }
      };
      await Promise.all([0, 1, 2, 3].map(worker));
      return { calls, failures };
    })();
  });

  after(async () => {
    stopLoad = true;
    await load;
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("lets one of 30 concurrent creates of one id win, and one of 30 creates of one email", async () => {
    const sameId = await spread(30, (i, p) =>
      (users[p] as GrpcClient).call("Create", {
        user: { user_id: "contested", primary_email_address: `contested-${i}@example.com` },
      }),
    );
    assert.deepEqual(
      codes(sameId).sort((a, b) => a - b),
      [0, ...Array(29).fill(grpc.status.ALREADY_EXISTS)],
    );
    const sameEmail = await spread(30, (i, p) =>
      (users[p] as GrpcClient).call("Create", {
        user: { user_id: `claimant-${i}`, primary_email_address: "Shared.Address@example.com" },
      }),
    );
    assert.deepEqual(
      codes(sameEmail).sort((a, b) => a - b),
      [0, ...Array(29).fill(grpc.status.ALREADY_EXISTS)],
    );
    const found = await (users[1] as GrpcClient).call("Search", { email_contains: "shared.address@example.com" });
    assert.equal(found.users.length, 1, "one user holds the address, seen from any process");
  });

  it("applies one of 30 updates guarded by the same etag, and keeps every one of 30 unguarded changes", async () => {
    await (users[0] as GrpcClient).call("Create", {
      user: { user_id: "guarded", primary_email_address: "guarded@example.com" },
    });
    const { etag } = (await (users[2] as GrpcClient).call("Get", { user_id: "guarded" })).user;
    assert.ok(etag);
    const guarded = await spread(30, (i, p) =>
      (users[p] as GrpcClient).call("Update", {
        user: { user_id: "guarded", name: `writer ${i}`, etag },
        update_mask: { paths: ["name"] },
      }),
    );
    const results = codes(guarded);
    assert.equal(results.filter((c) => c === 0).length, 1, `exactly one writer of the version wins: ${results}`);
    assert.ok(
      results.every((c) => c === 0 || c === grpc.status.ABORTED),
      `only ABORTED otherwise: ${results}`,
    );
    const winner = guarded.findIndex((r) => r.status === "fulfilled");
    const { user } = await (users[1] as GrpcClient).call("Get", { user_id: "guarded" });
    assert.equal(user.name, `writer ${winner}`);

    // Unguarded writes of different settings of one user: none is lost.
    const unguarded = await spread(30, (i, p) =>
      (settings[p] as GrpcClient).call("Set", { user_id: "guarded", key: `key-${i}`, value: { numberValue: i } }),
    );
    assert.deepEqual(codes(unguarded), Array(30).fill(0));
    const listed = await (settings[0] as GrpcClient).call("List", { user_id: "guarded" });
    assert.equal(Object.keys(listed.settings.fields).length, 30, "every process's change is kept");
  });

  it("counts failed logins once per account across processes: a burst spread over three locks the account", async () => {
    await createUser(servers[0] as TestServer, { userId: "guessed", password: "the right passphrase" });
    const burst = await spread(30, (i, p) =>
      (access[p] as GrpcClient).call("Authenticate", { user_id_or_email: "guessed", password: `wrong ${i}` }, {}),
    );
    assert.deepEqual(codes(burst), Array(30).fill(grpc.status.UNAUTHENTICATED));
    for (const a of access) {
      await rejectsWith(
        a.call("Authenticate", { user_id_or_email: "guessed", password: "the right passphrase" }),
        grpc.status.UNAUTHENTICATED,
      );
    }
  });

  it("stops a key revoked through one process at once there, and on the others within the credential cache time", async () => {
    const holder = await createUser(servers[0] as TestServer, { userId: "revoked-holder" });
    const asHolder = servers.map((s) => client(s, "roster.v1.UserRegistry", holder.key));
    for (const c of asHolder) await c.call("Get", { user_id: "revoked-holder" });
    await (access[1] as GrpcClient).call("RevokeTokens", { user_id: "revoked-holder", kind: "TOKEN_KIND_API_KEY" });
    const revokedAt = Date.now();
    await rejectsWith(
      (asHolder[1] as GrpcClient).call("Get", { user_id: "revoked-holder" }),
      grpc.status.UNAUTHENTICATED,
    );
    for (const p of [0, 2]) {
      for (;;) {
        try {
          await (asHolder[p] as GrpcClient).call("Get", { user_id: "revoked-holder" });
        } catch (e) {
          assert.equal((e as { code?: number }).code, grpc.status.UNAUTHENTICATED);
          break;
        }
        assert.ok(Date.now() - revokedAt < 1500, `process ${p} still accepts the key after 1.5 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  it("answered every call of the background load properly", async () => {
    stopLoad = true;
    const { calls, failures } = await load;
    assert.ok(calls > 50, `the load ran (${calls} calls)`);
    assert.deepEqual(failures, [], "no call of the load failed");
  });
});
