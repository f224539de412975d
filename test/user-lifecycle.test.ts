import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

const { NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED, ABORTED } = grpc.status;

describe("deleting, restoring and purging users", () => {
  let server: TestServer;
  let admin: GrpcClient;

  before(async () => {
    // A short restore window, so that "too late to restore" can be reached.
    server = await startServer({ args: ["--restore-window", "2s"] });
    admin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
  });
  after(async () => {
    admin.close();
    await server.stop();
  });

  const create = (userId: string) =>
    admin.call("Create", { user: { user_id: userId, primary_email_address: `${userId}@example.com` } });

  it("soft-deletes: the user disappears from reads and lists, and shows in deleted lists", async () => {
    await create("doomed");
    const res = await admin.call("Delete", { user_id: "doomed" });
    assert.ok(Number(res.restorable_until.seconds) * 1000 > Date.now());
    await rejectsWith(admin.call("Get", { user_id: "doomed" }), NOT_FOUND);
    const active = await admin.call("Search", { id_contains: "doomed" });
    assert.equal(active.users.length, 0);
    const deleted = await admin.call("List", { deleted: true, field_mask: { paths: ["deleted_at"] } });
    const doomed = deleted.users.find((u: { user_id: string }) => u.user_id === "doomed");
    assert.ok(doomed?.deleted_at, "listed with its deletion time");
    await rejectsWith(admin.call("Delete", { user_id: "doomed" }), NOT_FOUND);
  });

  it("keeps the id (and email) of a deleted user reserved until it is purged", async () => {
    await create("reserved");
    await admin.call("Delete", { user_id: "reserved" });
    await rejectsWith(create("reserved"), ALREADY_EXISTS, "USER_ID_TAKEN");
    await rejectsWith(
      admin.call("Create", { user: { user_id: "reserved-2", primary_email_address: "reserved@example.com" } }),
      ALREADY_EXISTS,
    );
    await admin.call("Purge", { user_id: "reserved" });
    const { user } = await create("reserved");
    assert.equal(user.user_id, "reserved");
  });

  it("restores within the window, and refuses to restore active users", async () => {
    await create("comeback");
    await admin.call("Delete", { user_id: "comeback" });
    const { user } = await admin.call("Restore", { user_id: "comeback" });
    assert.equal(user.user_id, "comeback");
    assert.equal(user.deleted_at, null);
    assert.equal((await admin.call("Get", { user_id: "comeback" })).user.user_id, "comeback");
    await rejectsWith(admin.call("Restore", { user_id: "comeback" }), FAILED_PRECONDITION, "USER_NOT_DELETED");
    await rejectsWith(admin.call("Restore", { user_id: "never-was" }), NOT_FOUND);
  });

  it("refuses to restore after the window, but still purges", async () => {
    await create("too-late");
    await admin.call("Delete", { user_id: "too-late" });
    await new Promise((r) => setTimeout(r, 2300));
    await rejectsWith(admin.call("Restore", { user_id: "too-late" }), FAILED_PRECONDITION, "RESTORE_WINDOW_PASSED");
    await admin.call("Purge", { user_id: "too-late" });
    await rejectsWith(admin.call("Restore", { user_id: "too-late" }), NOT_FOUND);
  });

  it("deletes only the version read when an etag is given", async () => {
    const { user } = await create("guarded");
    await admin.call("Update", { user: { user_id: "guarded", name: "changed" }, update_mask: { paths: ["name"] } });
    await rejectsWith(admin.call("Delete", { user_id: "guarded", etag: user.etag }), ABORTED, "ETAG_MISMATCH");
    await admin.call("Delete", { user_id: "guarded" });
  });

  it("lets users delete themselves but not others, and only admins purge or restore", async () => {
    const carol = await createUser(server, { userId: "carol" });
    const asCarol = grpcClient(server, "roster.v1.UserRegistry", carol.key);
    await create("bystander");
    await rejectsWith(asCarol.call("Delete", { user_id: "bystander" }), PERMISSION_DENIED);
    await rejectsWith(asCarol.call("Purge", { user_id: "bystander" }), PERMISSION_DENIED);
    await asCarol.call("Delete", { user_id: "carol" });
    await rejectsWith(asCarol.call("GetCurrent", {}), UNAUTHENTICATED, "UNAUTHENTICATED");
    await admin.call("Restore", { user_id: "carol" });
    await rejectsWith(asCarol.call("GetCurrent", {}), UNAUTHENTICATED);
    asCarol.close();
  });

  it("never lets the last approved admin be deleted, purged, demoted or suspended", async () => {
    // Only `admin` is an approved admin here.
    const admins = await admin.call("Search", { admin: true, state: ["STATE_APPROVED"] });
    assert.deepEqual(
      admins.users.map((u: { user_id: string }) => u.user_id),
      ["admin"],
    );
    await rejectsWith(admin.call("Delete", { user_id: "admin" }), FAILED_PRECONDITION, "LAST_ADMIN");
    await rejectsWith(admin.call("Purge", { user_id: "admin" }), FAILED_PRECONDITION, "LAST_ADMIN");
    await rejectsWith(
      admin.call("Update", { user: { user_id: "admin", admin: false }, update_mask: { paths: ["admin"] } }),
      FAILED_PRECONDITION,
      "LAST_ADMIN",
    );
    for (const state of ["STATE_SUSPENDED", "STATE_REJECTED", "STATE_FLAGGED", "STATE_REQUESTED"]) {
      await rejectsWith(
        admin.call("Update", { user: { user_id: "admin", state }, update_mask: { paths: ["state"] } }),
        FAILED_PRECONDITION,
        "LAST_ADMIN",
      );
    }
    // With two approved admins, either may be demoted, suspended or deleted.
    await createUser(server, { userId: "second-admin", admin: true });
    await admin.call("Update", {
      user: { user_id: "second-admin", state: "STATE_SUSPENDED" },
      update_mask: { paths: ["state"] },
    });
    await rejectsWith(admin.call("Delete", { user_id: "admin" }), FAILED_PRECONDITION, "LAST_ADMIN");
    await admin.call("Update", {
      user: { user_id: "second-admin", state: "STATE_APPROVED" },
      update_mask: { paths: ["state"] },
    });
    await admin.call("Delete", { user_id: "second-admin" });
  });

  it("takes every token away from a user who is deleted or suspended", async () => {
    const dave = await createUser(server, { userId: "dave" });
    const asDave = grpcClient(server, "roster.v1.UserRegistry", dave.key);
    assert.equal((await asDave.call("GetCurrent", {})).user.user_id, "dave");
    await admin.call("Update", {
      user: { user_id: "dave", state: "STATE_SUSPENDED" },
      update_mask: { paths: ["state"] },
    });
    await rejectsWith(asDave.call("GetCurrent", {}), UNAUTHENTICATED);
    await admin.call("Update", {
      user: { user_id: "dave", state: "STATE_APPROVED" },
      update_mask: { paths: ["state"] },
    });
    await rejectsWith(asDave.call("GetCurrent", {}), UNAUTHENTICATED, "UNAUTHENTICATED");
    asDave.close();
  });

  it("takes every token away from a REQUESTED user who is suspended, rejected or deleted", async () => {
    const access = grpcClient(server, "roster.v1.UserAccess", "");
    for (const [userId, change] of [
      ["fay", "STATE_SUSPENDED"],
      ["gil", "STATE_REJECTED"],
      ["hal", "delete"],
    ] as const) {
      await admin.call("Create", {
        user: { user_id: userId, primary_email_address: `${userId}@example.com`, state: "STATE_REQUESTED" },
        password: "a fine passphrase",
      });
      const { token } = await access.call("Authenticate", { user_id_or_email: userId, password: "a fine passphrase" });
      const asUser = grpcClient(server, "roster.v1.UserRegistry", token);
      assert.equal((await asUser.call("GetCurrent", {})).user.user_id, userId);
      if (change === "delete") {
        await admin.call("Delete", { user_id: userId });
        await admin.call("Restore", { user_id: userId });
      } else {
        await admin.call("Update", { user: { user_id: userId, state: change }, update_mask: { paths: ["state"] } });
      }
      await admin.call("Update", {
        user: { user_id: userId, state: "STATE_REQUESTED" },
        update_mask: { paths: ["state"] },
      });
      await rejectsWith(asUser.call("GetCurrent", {}), UNAUTHENTICATED);
      asUser.close();
    }
    access.close();
  });

  it("does not hand a purged user's keys to a new user with the same id", async () => {
    const erin = await createUser(server, { userId: "erin" });
    await admin.call("Purge", { user_id: "erin" });
    await create("erin");
    const asErin = grpcClient(server, "roster.v1.UserRegistry", erin.key);
    await rejectsWith(asErin.call("GetCurrent", {}), UNAUTHENTICATED);
    asErin.close();
  });
});
