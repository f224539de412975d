import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { type GrpcClient, grpc, grpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

describe("UserRegistry under concurrency", () => {
  let server: TestServer;
  let admin: GrpcClient;
  let db: MongoClient;

  before(async () => {
    server = await startServer();
    admin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    db = new MongoClient(server.mongodbUri);
  });
  after(async () => {
    admin.close();
    await db.close();
    await server.stop();
  });

  const outcomes = (results: PromiseSettledResult<unknown>[]) => ({
    ok: results.filter((r) => r.status === "fulfilled").length,
    codes: results
      .filter((r): r is PromiseRejectedResult => r.status === "rejected")
      .map((r) => (r.reason as { code: number }).code),
  });

  it("lets exactly one of 50 concurrent Creates of one user id succeed", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        admin.call("Create", { user: { user_id: "contested", primary_email_address: `contested-${i}@example.com` } }),
      ),
    );
    const { ok, codes } = outcomes(results);
    assert.equal(ok, 1);
    assert.equal(codes.length, 49);
    assert.ok(
      codes.every((c) => c === grpc.status.ALREADY_EXISTS),
      `codes: ${codes}`,
    );
    assert.equal(await db.db().collection("users").countDocuments({ user_id: "contested" }), 1);
  });

  it("lets exactly one of 50 concurrent Creates with emails differing only in case succeed", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => {
        const email = [..."shared@example.com"].map((c, j) => ((i >> (j % 6)) & 1 ? c.toUpperCase() : c)).join("");
        return admin.call("Create", { user: { user_id: `email-race-${i}`, primary_email_address: email } });
      }),
    );
    const { ok, codes } = outcomes(results);
    assert.equal(ok, 1);
    assert.ok(codes.every((c) => c === grpc.status.ALREADY_EXISTS));
    assert.equal(await db.db().collection("users").countDocuments({ email_key: "shared@example.com" }), 1);
  });

  it("keeps every acknowledged change of 20 concurrent etag-guarded Updates and aborts the rest", async () => {
    await admin.call("Create", { user: { user_id: "etag-race", primary_email_address: "etag-race@example.com" } });
    const acknowledged: string[] = [];
    let aborted = 0;
    // Each writer reads, then updates with the etag it read; losers re-read and retry until they land.
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        for (;;) {
          const { user } = await admin.call("Get", {
            user_id: "etag-race",
            field_mask: { paths: ["attributes", "etag"] },
          });
          try {
            await admin.call("Update", {
              user: { user_id: "etag-race", etag: user.etag, attributes: { ...user.attributes, [`w${i}`]: "done" } },
              update_mask: { paths: ["attributes"] },
            });
            acknowledged.push(`w${i}`);
            return;
          } catch (err) {
            assert.equal((err as { code: number }).code, grpc.status.ABORTED);
            aborted++;
          }
        }
      }),
    );
    const { user } = await admin.call("Get", { user_id: "etag-race", field_mask: { paths: ["attributes"] } });
    assert.equal(acknowledged.length, 20);
    assert.deepEqual(Object.keys(user.attributes).sort(), [...acknowledged].sort());
    assert.ok(aborted > 0, "some writers lost a race and were told so");
  });

  it("loses none of 20 concurrent Updates without etags of different fields", async () => {
    await admin.call("Create", { user: { user_id: "blind-race", primary_email_address: "blind@example.com" } });
    const fields = ["name", "description", "state_description"] as const;
    await Promise.all(
      Array.from({ length: 21 }, (_, i) => {
        const field = fields[i % 3] as string;
        return admin.call("Update", {
          user: { user_id: "blind-race", [field]: `value-${i}` },
          update_mask: { paths: [field] },
        });
      }),
    );
    const { user } = await admin.call("Get", { user_id: "blind-race" });
    for (const field of fields) assert.match(user[field], /^value-\d+$/, `${field} was written`);
    const doc = await db.db().collection("users").findOne({ user_id: "blind-race" });
    assert.equal(doc?.revision, 22, "every update produced exactly one revision");
  });

  it("never leaves zero admins when two admins demote each other at once", async () => {
    const a = await createUser(server, { userId: "admin-a", admin: true });
    const b = await createUser(server, { userId: "admin-b", admin: true });
    // Leave only admin-a and admin-b as approved admins.
    await admin.call("Update", { user: { user_id: "admin-a", admin: true }, update_mask: { paths: ["admin"] } });
    const asA = grpcClient(server, "roster.v1.UserRegistry", a.key);
    const asB = grpcClient(server, "roster.v1.UserRegistry", b.key);
    await asA.call("Update", { user: { user_id: "admin", admin: false }, update_mask: { paths: ["admin"] } });
    const results = await Promise.allSettled([
      asA.call("Update", { user: { user_id: "admin-b", admin: false }, update_mask: { paths: ["admin"] } }),
      asB.call("Update", { user: { user_id: "admin-a", admin: false }, update_mask: { paths: ["admin"] } }),
    ]);
    const { ok, codes } = outcomes(results);
    assert.equal(ok, 1, `one demotion wins (codes ${codes})`);
    assert.ok(
      codes[0] === grpc.status.FAILED_PRECONDITION || codes[0] === grpc.status.PERMISSION_DENIED,
      `the other is refused (last admin, or its caller was demoted first): ${codes}`,
    );
    const admins = await db
      .db()
      .collection("users")
      .countDocuments({ admin: true, state: "APPROVED", deleted_at: null });
    assert.equal(admins, 1);
    asA.close();
    asB.close();
  });
});
