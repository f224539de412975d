/**
 * Users named by email wherever a request names an existing user (issue
 * 11: Wallaroo and REANA name users by email), through the API and the CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UserAccess } from "../gen/roster/v1/user_access_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { userNamingFields } from "../server/access/user-names.js";
import { roster } from "./support/cli.js";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

describe("users named by email", () => {
  it("finds the user-naming fields from the descriptors, leaving out new ids", () => {
    const names = (input: Parameters<typeof userNamingFields>[0]) =>
      userNamingFields(input).map(({ parent, field }) => (parent ? `${parent.name}.${field.name}` : field.name));
    assert.deepEqual(names(UserRegistry.method.get.input), ["user_id"]);
    assert.deepEqual(names(UserRegistry.method.update.input), ["user.user_id"]);
    assert.deepEqual(names(UserRegistry.method.batchGet.input), ["user_ids"]);
    assert.deepEqual(names(UserRegistry.method.merge.input), ["old_user_id", "new_user_id"]);
    assert.deepEqual(names(UserRegistry.method.rename.input), ["user_id"], "the new id is not resolved");
    assert.deepEqual(names(UserRegistry.method.create.input), [], "the created user is not resolved");
    assert.deepEqual(names(UserAccess.method.updateAPIKey.input), ["api_key.user_id"]);
  });

  describe("on a live server", () => {
    let server: TestServer;
    let admin: GrpcClient;
    let alice: TestUser;
    let bob: TestUser;
    const clients: GrpcClient[] = [];
    before(async () => {
      server = await startServer();
      admin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
      clients.push(admin);
      alice = await createUser(server, { userId: "alice-names" });
      bob = await createUser(server, { userId: "bob-names" });
    });
    after(async () => {
      for (const c of clients) c.close();
      await server.stop();
    });

    it("lets admins name any active user by email, in any case, and answers with the id", async () => {
      const { user } = await admin.call("Get", { user_id: "ALICE-NAMES@example.com" });
      assert.equal(user.user_id, "alice-names");
      const updated = await admin.call("Update", {
        user: { user_id: "alice-names@example.com", description: "by email" },
        update_mask: { paths: ["description"] },
      });
      assert.equal(updated.user.user_id, "alice-names");
      assert.equal(updated.user.description, "by email");
      const batch = await admin.call("BatchGet", {
        user_ids: ["bob-names@example.com", "nobody@example.com", "alice-names"],
      });
      assert.deepEqual(batch.users.map((u: { user_id: string }) => u.user_id).sort(), ["alice-names", "bob-names"]);
      assert.deepEqual(batch.missing_email_addresses, ["nobody@example.com"]);
      const access = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
      clients.push(access);
      const key = await access.call("CreateAPIKey", { user_id: "bob-names@example.com", name: "by email" });
      assert.equal(key.api_key.user_id, "bob-names");
      await rejectsWith(admin.call("Get", { user_id: "nobody@example.com" }), grpc.status.NOT_FOUND, "USER_NOT_FOUND");
    });

    it("resolves a non-admin's own address only: any other address is refused, registered or not", async () => {
      const own = grpcClient(server, "roster.v1.UserRegistry", alice.key);
      clients.push(own);
      const { user } = await own.call("Get", { user_id: alice.email });
      assert.equal(user.user_id, "alice-names");
      const other = await rejectsWith(
        own.call("Get", { user_id: bob.email }),
        grpc.status.PERMISSION_DENIED,
        "EMAIL_NAMES_ADMIN_ONLY",
      );
      const unknown = await rejectsWith(
        own.call("Get", { user_id: "nobody@example.com" }),
        grpc.status.PERMISSION_DENIED,
        "EMAIL_NAMES_ADMIN_ONLY",
      );
      assert.equal(other.details.replace(bob.email, "x"), unknown.details.replace("nobody@example.com", "x"));
    });

    it("takes an email in place of the id in CLI commands (Wallaroo's deactivate, REANA's api-keys create)", async () => {
      const cli = (args: string[]) => roster(args, { server });
      await createUser(server, { userId: "wallaroo-user" });
      const deactivated = await cli(["users", "deactivate", "wallaroo-user@example.com"]);
      assert.equal(deactivated.code, 0, deactivated.stderr);
      const got = await cli(["users", "get", "Wallaroo-User@example.com", "--output", "json"]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.json().user_id ?? got.json().userId, "wallaroo-user");
      const key = await cli(["users", "api-keys", "create", "wallaroo-user@example.com", "--name", "cli by email"]);
      assert.equal(key.code, 0, key.stderr);
      const many = await cli(["users", "get", "wallaroo-user@example.com", "alice-names", "--output", "json"]);
      assert.equal(many.code, 0, many.stderr);
      assert.match(many.stdout, /wallaroo-user/);
      assert.match(many.stdout, /alice-names/);
    });
  });
});
