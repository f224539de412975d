import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectJson, connectReason, type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { logLines, startServer, type TestServer } from "./support/server.js";

const { INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, ALREADY_EXISTS, ABORTED, UNAUTHENTICATED } = grpc.status;

describe("UserRegistry", () => {
  let server: TestServer;
  let admin: GrpcClient;
  let alice: TestUser;
  let aliceClient: GrpcClient;

  before(async () => {
    server = await startServer({ args: ["--log-database-commands"] });
    admin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    alice = await createUser(server, { userId: "alice", name: "Alice" });
    aliceClient = grpcClient(server, "roster.v1.UserRegistry", alice.key);
  });
  after(async () => {
    admin.close();
    aliceClient.close();
    await server.stop();
  });

  describe("Create", () => {
    it("creates a user with every writable field and returns it", async () => {
      const { user } = await admin.call("Create", {
        user: {
          user_id: "new-user",
          name: "New User",
          description: "made by a test",
          primary_email_address: "New.User@Example.com",
          attributes: { team: "blue", floor: "3" },
          state: "STATE_REQUESTED",
          state_description: "waiting",
        },
        password: "a long enough password",
      });
      assert.equal(user.user_id, "new-user");
      assert.equal(user.name, "New User");
      assert.equal(user.primary_email_address, "New.User@Example.com");
      assert.deepEqual(user.attributes, { team: "blue", floor: "3" });
      assert.equal(user.state, "STATE_REQUESTED");
      assert.equal(user.state_description, "waiting");
      assert.ok(user.created_at && user.updated_at && user.password_updated_at);
      assert.ok(user.etag);
      assert.equal(user.password, undefined, "no password field exists");
    });

    it("defaults the state of admin-created users to APPROVED", async () => {
      const { user } = await admin.call("Create", {
        user: { user_id: "defaulted", primary_email_address: "d@example.com" },
      });
      assert.equal(user.state, "STATE_APPROVED");
      assert.equal(user.password_updated_at, null);
    });

    it("rejects invalid ids, emails and attribute keys with every problem named", async () => {
      const err = await rejectsWith(
        admin.call("Create", {
          user: {
            user_id: "Bad_ID",
            primary_email_address: "not-an-email",
            attributes: { $where: "x", "a.b": "y" },
            name: "n".repeat(201),
          },
        }),
        INVALID_ARGUMENT,
      );
      for (const field of [
        "user.user_id",
        "user.primary_email_address",
        "user.attributes.$where",
        "user.attributes.a.b",
        "user.name",
      ]) {
        assert.match(err.details, new RegExp(field.replace(/[.$]/g, "\\$&")));
      }
    });

    it("rejects ids longer than 36 characters, and double or edge dashes", async () => {
      for (const id of ["a".repeat(37), "a--b", "-ab", "ab-", "a"]) {
        await rejectsWith(
          admin.call("Create", { user: { user_id: id, primary_email_address: `${id.length}x@example.com` } }),
          INVALID_ARGUMENT,
        );
      }
      const { user } = await admin.call("Create", {
        user: { user_id: "a".repeat(36), primary_email_address: "max@example.com" },
      });
      assert.equal(user.user_id.length, 36);
    });

    it("refuses a taken id and an email taken in any case with ALREADY_EXISTS", async () => {
      await rejectsWith(
        admin.call("Create", { user: { user_id: "alice", primary_email_address: "other@example.com" } }),
        ALREADY_EXISTS,
        "USER_ID_TAKEN",
      );
      await rejectsWith(
        admin.call("Create", { user: { user_id: "alice2", primary_email_address: "ALICE@example.COM" } }),
        ALREADY_EXISTS,
        "EMAIL_TAKEN",
      );
    });

    it("refuses weak passwords: too short, common, or equal to the user id", async () => {
      const attempt = (password: string) =>
        admin.call("Create", { user: { user_id: "weak-pw", primary_email_address: "weak@example.com" }, password });
      assert.match((await rejectsWith(attempt("short"), INVALID_ARGUMENT)).details, /at least 8/);
      assert.match((await rejectsWith(attempt("password1"), INVALID_ARGUMENT)).details, /too common/);
      assert.match((await rejectsWith(attempt("weak-pw"), INVALID_ARGUMENT)).details, /user id|at least 8/);
      assert.match((await rejectsWith(attempt("x".repeat(257)), INVALID_ARGUMENT)).details, /at most 256/);
    });

    it("is refused to non-admins", async () => {
      await rejectsWith(
        aliceClient.call("Create", { user: { user_id: "by-alice", primary_email_address: "ba@example.com" } }),
        PERMISSION_DENIED,
      );
    });
  });

  describe("Get and field masks", () => {
    it("returns exactly the masked fields plus user_id, created_at and updated_at", async () => {
      const { user } = await admin.call("Get", { user_id: "alice", field_mask: { paths: ["name"] } });
      assert.equal(user.name, "Alice");
      assert.ok(user.created_at && user.updated_at);
      assert.equal(user.primary_email_address, "");
      assert.equal(user.state, "STATE_UNSPECIFIED");
      assert.equal(user.etag, "");
    });

    it("asks the database only for the masked fields (a projection), plus deleted_at to hide deleted users", async () => {
      await admin.call("Get", { user_id: "alice", field_mask: { paths: ["name", "state"] } });
      type Command = { command: string; collection: string; projection?: Record<string, number>; maxTimeMS?: number };
      const projected = (
        await logLines(server, (l) => {
          const db = l.db as Command | undefined;
          return db?.command === "find" && db.collection === "users" && !!db.projection?.name && !!db.projection.state;
        })
      ).map((l) => l.db as Command & { projection: Record<string, number> });
      assert.ok(projected.length > 0, "a find with the projection was sent");
      assert.deepEqual(Object.keys(projected.at(-1)?.projection ?? {}).sort(), [
        "_id",
        "created_at",
        "deleted_at",
        "name",
        "state",
        "updated_at",
        "user_id",
      ]);
      assert.equal(projected.at(-1)?.projection._id, 0);
      // A lookup by a unique key sends no maxTimeMS (FerretDB spends twice the CPU on it); the
      // call's deadline bounds it through its abort signal (faults-database.test.ts stalls the
      // database under a Get with a 3 s deadline).
      assert.equal(projected.at(-1)?.maxTimeMS, undefined);
    });

    it("rejects unknown and forbidden paths with INVALID_ARGUMENT naming them", async () => {
      const err = await rejectsWith(
        admin.call("Get", { user_id: "alice", field_mask: { paths: ["name", "password", "nonsense"] } }),
        INVALID_ARGUMENT,
        "UNKNOWN_FIELD_PATHS",
      );
      assert.match(err.details, /password/);
      assert.match(err.details, /nonsense/);
      assert.doesNotMatch(err.details, /name,/);
    });

    it("lets users read their own private fields and only public fields of others", async () => {
      const own = await aliceClient.call("Get", { user_id: "alice", field_mask: { paths: ["primary_email_address"] } });
      assert.equal(own.user.primary_email_address, alice.email);
      const other = await aliceClient.call("Get", { user_id: "admin", field_mask: { paths: ["name", "description"] } });
      assert.equal(other.user.name, "Administrator");
      const err = await rejectsWith(
        aliceClient.call("Get", { user_id: "admin", field_mask: { paths: ["primary_email_address", "admin"] } }),
        PERMISSION_DENIED,
      );
      assert.match(err.details, /primary_email_address, admin/);
      const all = await aliceClient.call("Get", { user_id: "admin" });
      assert.equal(all.user.primary_email_address, "", "an empty mask means the fields one may read");
    });

    it("returns NOT_FOUND for unknown users and UNAUTHENTICATED without a key", async () => {
      await rejectsWith(admin.call("Get", { user_id: "nobody" }), NOT_FOUND, "USER_NOT_FOUND");
      await rejectsWith(admin.call("Get", { user_id: "alice" }, { key: "" }), UNAUTHENTICATED);
    });

    it("GetCurrent returns the caller", async () => {
      const { user } = await aliceClient.call("GetCurrent", { field_mask: { paths: ["name", "admin"] } });
      assert.equal(user.user_id, "alice");
      assert.equal(user.admin, false);
    });
  });

  describe("BatchGet", () => {
    it("gets users by ids and by emails (case-insensitive) and lists the missing ones", async () => {
      const res = await admin.call("BatchGet", {
        user_ids: ["alice", "ghost", "admin"],
        email_addresses: ["NEW.USER@example.com", "nobody@example.com"],
        field_mask: { paths: ["name"] },
      });
      assert.deepEqual(
        res.users.map((u: { user_id: string }) => u.user_id),
        ["alice", "admin", "new-user"],
      );
      assert.deepEqual(res.missing_user_ids, ["ghost"]);
      assert.deepEqual(res.missing_email_addresses, ["nobody@example.com"]);
    });

    it("does not let non-admins look users up by email", async () => {
      await rejectsWith(aliceClient.call("BatchGet", { email_addresses: ["admin@localhost"] }), PERMISSION_DENIED);
      const res = await aliceClient.call("BatchGet", { user_ids: ["admin", "alice"], field_mask: { paths: ["name"] } });
      assert.equal(res.users.length, 2);
    });
  });

  describe("Update", () => {
    it("changes exactly the fields in the mask", async () => {
      const before = await admin.call("Get", { user_id: "alice" });
      const { user } = await aliceClient.call("Update", {
        user: { user_id: "alice", name: "Alice A.", description: "ignored, not in mask" },
        update_mask: { paths: ["name"] },
      });
      assert.equal(user.name, "Alice A.");
      assert.notEqual(user.etag, before.user.etag);
      const after = await admin.call("Get", { user_id: "alice" });
      assert.equal(after.user.description, before.user.description);
      assert.equal(after.user.name, "Alice A.");
    });

    it("changes nothing with an empty mask", async () => {
      const before = await admin.call("Get", { user_id: "alice" });
      await aliceClient.call("Update", { user: { user_id: "alice", name: "Changed?" }, update_mask: { paths: [] } });
      const after = await admin.call("Get", { user_id: "alice" });
      assert.equal(after.user.name, before.user.name);
      assert.equal(after.user.etag, before.user.etag);
    });

    it("refuses admin-only paths to non-admins with PERMISSION_DENIED naming them", async () => {
      for (const path of [
        "admin",
        "state",
        "state_description",
        "primary_email_address_validated_at",
        "require_password_update",
      ]) {
        const err = await rejectsWith(
          aliceClient.call("Update", { user: { user_id: "alice", admin: true }, update_mask: { paths: [path] } }),
          PERMISSION_DENIED,
          "ADMIN_ONLY_FIELDS",
        );
        assert.match(err.details, new RegExp(path));
      }
    });

    it("refuses read-only and unknown paths with INVALID_ARGUMENT", async () => {
      await rejectsWith(
        admin.call("Update", { user: { user_id: "alice" }, update_mask: { paths: ["created_at"] } }),
        INVALID_ARGUMENT,
        "READ_ONLY_FIELD_PATHS",
      );
      await rejectsWith(
        admin.call("Update", { user: { user_id: "alice" }, update_mask: { paths: ["shoe_size"] } }),
        INVALID_ARGUMENT,
        "UNKNOWN_FIELD_PATHS",
      );
    });

    it("refuses changing other users to non-admins", async () => {
      await rejectsWith(
        aliceClient.call("Update", { user: { user_id: "new-user", name: "x" }, update_mask: { paths: ["name"] } }),
        PERMISSION_DENIED,
      );
    });

    it("lets admins move a user through every state with a description", async () => {
      for (const state of ["STATE_FLAGGED", "STATE_SUSPENDED", "STATE_REJECTED", "STATE_REQUESTED", "STATE_APPROVED"]) {
        const { user } = await admin.call("Update", {
          user: { user_id: "new-user", state, state_description: `now ${state}` },
          update_mask: { paths: ["state", "state_description"] },
        });
        assert.equal(user.state, state);
        assert.equal(user.state_description, `now ${state}`);
      }
    });

    it("clears the email validation when the email changes", async () => {
      await admin.call("Update", {
        user: { user_id: "alice", primary_email_address_validated_at: { seconds: 1_700_000_000, nanos: 0 } },
        update_mask: { paths: ["primary_email_address_validated_at"] },
      });
      await aliceClient.call("Update", {
        user: { user_id: "alice", primary_email_address: "alice.new@example.com" },
        update_mask: { paths: ["primary_email_address"] },
      });
      const { user } = await admin.call("Get", {
        user_id: "alice",
        field_mask: { paths: ["primary_email_address", "primary_email_address_validated_at"] },
      });
      assert.equal(user.primary_email_address, "alice.new@example.com");
      assert.equal(user.primary_email_address_validated_at, null);
    });

    it("refuses an email that belongs to another user", async () => {
      await rejectsWith(
        aliceClient.call("Update", {
          user: { user_id: "alice", primary_email_address: "Admin@Localhost" },
          update_mask: { paths: ["primary_email_address"] },
        }),
        ALREADY_EXISTS,
        "EMAIL_TAKEN",
      );
    });

    it("applies an etag-guarded update only to the version read, else ABORTED", async () => {
      const { user } = await admin.call("Get", { user_id: "alice", field_mask: { paths: ["etag"] } });
      const updated = await admin.call("Update", {
        user: { user_id: "alice", description: "v2", etag: user.etag },
        update_mask: { paths: ["description"] },
      });
      await rejectsWith(
        admin.call("Update", {
          user: { user_id: "alice", description: "stale", etag: user.etag },
          update_mask: { paths: ["description"] },
        }),
        ABORTED,
        "ETAG_MISMATCH",
      );
      assert.notEqual(updated.user.etag, user.etag);
      const { user: now } = await admin.call("Get", { user_id: "alice", field_mask: { paths: ["description"] } });
      assert.equal(now.description, "v2");
    });
  });

  describe("Connect JSON", () => {
    it("speaks the same API to curl-like clients, with error details", async () => {
      const res = await connectJson(
        server,
        "roster.v1.UserRegistry/Get",
        { userId: "nobody" },
        { key: server.adminKey },
      );
      assert.equal(res.status, 404);
      assert.equal(res.body.code, "not_found");
      assert.equal(connectReason(res.body), "USER_NOT_FOUND");
      const bad = await connectJson(
        server,
        "roster.v1.UserRegistry/Create",
        { user: { userId: "X", primaryEmailAddress: "nope" } },
        { key: server.adminKey },
      );
      assert.equal(bad.status, 400);
      const violations = bad.body.details.find((d: { type: string }) => d.type === "google.rpc.BadRequest");
      assert.ok(violations.debug.fieldViolations.length >= 2);
    });
  });
});
