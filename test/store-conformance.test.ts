/**
 * The store against the database it runs on: the embedded FerretDB under
 * `npm test`, MongoDB when ROSTER_TEST_MONGODB_URI names one. What Roster
 * relies on from the database, checked where the two could differ: unique
 * indexes under concurrent inserts, no lost update among concurrent
 * changes, conditional (etag) writes, and a rule spanning users kept under
 * its lock. No server: the store's own functions.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { State, UserSchema } from "../gen/roster/v1/user_pb.js";
import { openStore, type Store } from "../server/store/store.js";
import { newUserDocument, type UserDocument } from "../server/store/user-documents.js";
import { errEmailTaken, errEtagMismatch, errLastAdmin, errUserIdTaken } from "../shared/errors.js";
import { testDatabaseUri } from "./support/server.js";

let store: Store;

before(async () => {
  store = await openStore(testDatabaseUri());
  await store.ensureIndexes();
});
after(() => store.close());

function newUser(userId: string, email: string, admin = false) {
  return newUserDocument(create(UserSchema, { userId, primaryEmailAddress: email, state: State.APPROVED, admin }), {
    created_by: "system",
  });
}

/** How many of `work` succeeded, and the errors of the others. */
async function outcomes(work: Promise<unknown>[]): Promise<{ ok: number; errors: unknown[] }> {
  const settled = await Promise.allSettled(work);
  const errors = settled.filter((s) => s.status === "rejected").map((s) => (s as PromiseRejectedResult).reason);
  return { ok: settled.length - errors.length, errors };
}

describe("the store on its database", () => {
  it("lets one of 20 concurrent inserts of an id win, and refuses the rest as taken", async () => {
    const { ok, errors } = await outcomes(
      Array.from({ length: 20 }, (_, i) => store.users.insert(newUser("same-id", `same-id-${i}@example.org`))),
    );
    assert.equal(ok, 1);
    assert.ok(
      errors.every((e) => errUserIdTaken.is(e)),
      String(errors[0]),
    );
  });

  it("lets one of 20 concurrent inserts of an address win, whatever its case", async () => {
    const { ok, errors } = await outcomes(
      Array.from({ length: 20 }, (_, i) =>
        store.users.insert(newUser(`mail-${i}`, i % 2 ? "Shared@Example.org" : "shared@example.ORG")),
      ),
    );
    assert.equal(ok, 1);
    assert.ok(
      errors.every((e) => errEmailTaken.is(e)),
      String(errors[0]),
    );
  });

  it("loses none of 20 concurrent changes to one user", async () => {
    await store.users.insert(newUser("busy", "busy@example.org"));
    const { ok, errors } = await outcomes(
      Array.from({ length: 20 }, (_, i) =>
        store.users.update(
          "busy",
          (current) => ({ ...current, attributes: { ...current.attributes, [`k${i}`]: String(i) } }),
          { actor: "system" },
        ),
      ),
    );
    assert.equal(ok, 20, String(errors[0]));
    const stored = (await store.users.getDocument("busy")) as UserDocument;
    assert.equal(Object.keys(stored.attributes).length, 20);
    assert.equal(stored.revision, 21);
  });

  it("applies a change against an etag once: a second one with the same etag is refused", async () => {
    const inserted = await store.users.insert(newUser("etagged", "etagged@example.org"));
    const rename = (name: string) =>
      store.users.update("etagged", (current) => ({ ...current, name }), { actor: "system", etag: inserted.etag });
    const { ok, errors } = await outcomes([rename("first"), rename("second"), rename("third")]);
    assert.equal(ok, 1);
    assert.ok(
      errors.every((e) => errEtagMismatch.is(e)),
      String(errors[0]),
    );
    assert.notEqual((await store.users.getDocument("etagged"))?.etag, inserted.etag);
  });

  it("keeps a rule spanning users under its lock: of two admins demoted at once, one stays", async () => {
    await store.users.insert(newUser("admin-a", "admin-a@example.org", true));
    await store.users.insert(newUser("admin-b", "admin-b@example.org", true));
    // Only these two are admins in this database.
    const demote = (userId: string) =>
      store.users.update(userId, (current) => ({ ...current, admin: false }), {
        actor: "system",
        guard: (current, next) =>
          current.admin && !next.admin
            ? {
                lock: "admins",
                others: { deleted: false, admin: true, states: ["APPROVED"] },
                otherwise: (target) => errLastAdmin({ user_id: target.user_id }),
                busy: () => new Error("busy"),
              }
            : undefined,
      });
    for (let round = 0; round < 3; round++) {
      const { ok, errors } = await outcomes([demote("admin-a"), demote("admin-b")]);
      assert.equal(ok, 1, `round ${round}: ${errors.map(String).join("; ")}`);
      assert.ok(
        errors.every((e) => errLastAdmin.is(e)),
        String(errors[0]),
      );
      const admins = await Promise.all(["admin-a", "admin-b"].map((id) => store.users.getDocument(id)));
      assert.equal(admins.filter((u) => u?.admin).length, 1);
      // Make both admins again for the next round.
      for (const id of ["admin-a", "admin-b"]) {
        await store.users.update(id, (current) => ({ ...current, admin: true }), { actor: "system" });
      }
    }
  });

  it("inserts a batch with duplicates in it, reporting which rows were taken", async () => {
    await store.users.insert(newUser("bulk-taken", "bulk-taken@example.org"));
    const rows = [
      newUser("bulk-1", "bulk-1@example.org"),
      newUser("bulk-taken", "bulk-other@example.org"),
      newUser("bulk-2", "BULK-1@example.org"),
      newUser("bulk-3", "bulk-3@example.org"),
    ];
    assert.deepEqual(await store.usersBulk.insertMany(rows), [true, false, false, true]);
    assert.equal((await store.users.getDocument("bulk-3"))?.revision, 1);
  });
});
