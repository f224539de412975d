/**
 * Arvados' self-service (issue 11, item 8): admins publish user
 * agreements, a user who has been set up accepts them and activates
 * themself; a new version asks again.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { ClientPool, type GrpcClient, grpc, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

describe("user agreements and self-activation (Arvados)", () => {
  let server: TestServer;
  const clients = new ClientPool();
  const client = (service: string, key?: string) => clients.open(server, service, key);
  let admin: { users: GrpcClient; agreements: GrpcClient };
  before(async () => {
    server = await startServer();
    admin = {
      users: client("roster.v1.UserRegistry", server.adminKey),
      agreements: client("roster.v1.UserAgreements", server.adminKey),
    };
  });
  after(async () => {
    clients.closeAll();
    await server.stop();
  });

  /** A REQUESTED user with a password, and a login token of theirs. */
  async function requestedUser(id: string) {
    await admin.users.call("Create", {
      user: { user_id: id, primary_email_address: `${id}@example.com`, state: "STATE_REQUESTED" },
      password: "a fine passphrase",
      send_email: false,
    });
    const { token } = await client("roster.v1.UserAccess").call("Authenticate", {
      user_id_or_email: id,
      password: "a fine passphrase",
    });
    return {
      users: client("roster.v1.UserRegistry", token),
      agreements: client("roster.v1.UserAgreements", token),
    };
  }

  it("publishes agreements (versions count up) and refuses going back a version", async () => {
    const first = await admin.agreements.call("Set", {
      agreement: { id: "terms", title: "Terms of use", url: "https://example.com/terms" },
    });
    assert.equal(first.agreement.version, 1);
    await admin.agreements.call("Set", {
      agreement: { id: "data-policy", title: "Data policy", url: "https://example.com/data", version: 3 },
    });
    await rejectsWith(
      admin.agreements.call("Set", { agreement: { id: "data-policy", title: "Old", version: 2 } }),
      grpc.status.FAILED_PRECONDITION,
      "AGREEMENT_VERSION",
    );
    await rejectsWith(
      admin.agreements.call("Set", { agreement: { id: "Bad.Id", title: "x" } }),
      grpc.status.INVALID_ARGUMENT,
    );
    const { agreements } = await admin.agreements.call("List", {});
    assert.deepEqual(
      agreements.map((a: { id: string; version: number }) => [a.id, a.version]),
      [
        ["data-policy", 3],
        ["terms", 1],
      ],
    );
    const plain = await createUser(server, { userId: "not-a-publisher" });
    await rejectsWith(
      client("roster.v1.UserAgreements", plain.key).call("Set", { agreement: { id: "mine", title: "x" } }),
      grpc.status.PERMISSION_DENIED,
    );
  });

  it("lets a set-up user activate themself only once every agreement is accepted", async () => {
    const me = await requestedUser("arv-self");
    await rejectsWith(me.users.call("Activate", {}), grpc.status.FAILED_PRECONDITION, "USER_NOT_SET_UP");
    const setup = await admin.users.call("Setup", { user_id: "arv-self" });
    assert.equal(setup.user.state, "STATE_REQUESTED", "agreements are pending");
    const err = await rejectsWith(
      me.users.call("Activate", {}),
      grpc.status.FAILED_PRECONDITION,
      "AGREEMENTS_NOT_ACCEPTED",
    );
    assert.match(err.details, /data-policy, terms/);
    const accepted = await me.agreements.call("Accept", { id: "terms" });
    assert.equal(accepted.agreement.accepted_version, 1);
    await rejectsWith(
      me.agreements.call("Accept", { id: "data-policy", version: 2 }),
      grpc.status.FAILED_PRECONDITION,
      "AGREEMENT_VERSION",
    );
    await me.agreements.call("Accept", { id: "data-policy", version: 3 });
    const { agreements } = await me.agreements.call("List", {});
    assert.ok(agreements.every((a: { accepted_at?: unknown }) => a.accepted_at));
    const { user } = await me.users.call("Activate", {});
    assert.equal(user.state, "STATE_APPROVED");
    assert.equal(user.user_id, "arv-self");
  });

  it("asks again for a new version, without deactivating active users", async () => {
    await admin.agreements.call("Set", { agreement: { id: "terms", title: "Terms of use, 2nd edition" } });
    const { agreements } = await admin.agreements.call("List", { user_id: "arv-self" });
    const terms = agreements.find((a: { id: string }) => a.id === "terms");
    assert.equal(terms.version, 2);
    assert.equal(terms.accepted_version, 1);
    assert.equal(terms.accepted_at, null);
    const { user } = await admin.users.call("Get", { user_id: "arv-self", field_mask: { paths: ["state"] } });
    assert.equal(user.state, "STATE_APPROVED");

    const other = await requestedUser("arv-late");
    await admin.users.call("Setup", { user_id: "arv-late" });
    await other.agreements.call("Accept", { id: "terms", version: 1 }).catch(() => undefined);
    await other.agreements.call("Accept", { id: "data-policy" });
    await rejectsWith(other.users.call("Activate", {}), grpc.status.FAILED_PRECONDITION, "AGREEMENTS_NOT_ACCEPTED");
    await other.agreements.call("Accept", { id: "terms" });
    assert.equal((await other.users.call("Activate", {})).user.state, "STATE_APPROVED");
  });

  it("lets admins activate anybody whose agreements are accepted, which sets them up; users not others", async () => {
    await admin.agreements.call("Delete", { id: "terms" });
    await admin.agreements.call("Delete", { id: "data-policy" });
    await rejectsWith(admin.agreements.call("Delete", { id: "terms" }), grpc.status.NOT_FOUND, "AGREEMENT_NOT_FOUND");
    await requestedUser("arv-by-admin");
    const { user } = await admin.users.call("Activate", { user_id: "arv-by-admin@example.com" });
    assert.equal(user.state, "STATE_APPROVED");
    const me = await requestedUser("arv-nosy");
    await rejectsWith(me.users.call("Activate", { user_id: "arv-by-admin" }), grpc.status.PERMISSION_DENIED);
    // Without agreements, setup approves at once, as before.
    assert.equal((await admin.users.call("Setup", { user_id: "arv-nosy" })).user.state, "STATE_APPROVED");
  });

  it("walks it from the CLI: agreements set, setup, agreements list and accept, activate", async () => {
    const set = await roster(
      ["users", "agreements", "set", "cli-terms", "--title", "Terms", "--url", "https://example.com/t"],
      { server },
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json().version, 1);
    await admin.users.call("Create", {
      user: { user_id: "arv-cli", primary_email_address: "arv.cli@example.com", state: "STATE_REQUESTED" },
      password: "a fine passphrase",
      send_email: false,
    });
    assert.equal((await roster(["users", "setup", "arv.cli@example.com"], { server })).json().state, "STATE_REQUESTED");
    const { token } = await client("roster.v1.UserAccess").call("Authenticate", {
      user_id_or_email: "arv-cli",
      password: "a fine passphrase",
    });
    const early = await roster(["users", "activate"], { server, key: token });
    assert.equal(early.code, 5, early.stderr);
    assert.match(early.stderr, /cli-terms/);
    const listed = await roster(["users", "agreements", "list", "--output", "json"], { server, key: token });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      listed.json().map((a: { id: string }) => a.id),
      ["cli-terms"],
    );
    const accept = await roster(["users", "agreements", "accept", "cli-terms"], { server, key: token });
    assert.equal(accept.code, 0, accept.stderr);
    const activated = await roster(["users", "activate", "--output", "json"], { server, key: token });
    assert.equal(activated.code, 0, activated.stderr);
    assert.equal(activated.json().state, "STATE_APPROVED");
  });
});
