import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ClientPool, type GrpcClient, grpc, grpcClient, type Message, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";
import { recipients, startSmtp, type TestSmtp, tokenIn } from "./support/smtp.js";

const { ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED, INVALID_ARGUMENT } = grpc.status;

describe("invitations (invitation-required registration, email over SMTP)", () => {
  let smtp: TestSmtp;
  let server: TestServer;
  let invitations: GrpcClient;
  let admin: GrpcClient;
  let anonymous: GrpcClient;
  const clients = new ClientPool();
  const client = (service: string, key?: string) => clients.open(server, service, key);

  before(async () => {
    smtp = await startSmtp();
    server = await startServer({ args: ["--smtp-url", smtp.url, "--registration", "invitation"] });
    invitations = client("roster.v1.InvitationRegistry", server.adminKey);
    admin = client("roster.v1.UserRegistry", server.adminKey);
    anonymous = client("roster.v1.UserRegistry");
  });
  after(async () => {
    clients.closeAll();
    await server.stop();
    await smtp.close();
  });

  const register = (userId: string, token: string, password = "my own passphrase") =>
    anonymous.call("Create", { user: { user_id: userId, name: userId }, password, invitation_token: token });

  it("emails an invitation whose token registers the user, and shows it accepted", async () => {
    const sent = await invitations.call("Send", { email: "Newcomer@Example.com" });
    assert.equal(sent.invitation.email, "newcomer@example.com");
    assert.equal(sent.invitation.status, "INVITATION_STATUS_PENDING");
    assert.match(sent.token, /^rst_iv_/);
    const mail = await smtp.waitFor((m) => recipients(m).includes("newcomer@example.com"));
    assert.equal(mail.subject, "You are invited to Roster");
    assert.ok(typeof mail.html === "string" && mail.html.includes("rst_iv_"), "HTML part too");
    const token = tokenIn(mail);
    assert.equal(token, sent.token);

    const { user } = await register("newcomer", token);
    assert.equal(user.primary_email_address, "newcomer@example.com");
    assert.ok(user.primary_email_address_validated_at, "the invited email counts as validated");
    assert.equal(user.state, "STATE_APPROVED");
    const got = await invitations.call("Get", { email: "newcomer@example.com" });
    assert.equal(got.invitation.status, "INVITATION_STATUS_ACCEPTED");
    assert.equal(got.invitation.accepted_by, "newcomer");
    assert.ok(got.invitation.accepted_at);
    const login = await client("roster.v1.UserAccess").call("Authenticate", {
      user_id_or_email: "newcomer",
      password: "my own passphrase",
    });
    assert.equal(login.user_id, "newcomer");
  });

  it("lists invitations with their email, status and expiry, filtered by status", async () => {
    await invitations.call("Send", { email: "pending-1@example.com", send_email: false });
    await invitations.call("Send", {
      email: "pending-2@example.com",
      send_email: false,
      expires_in: { seconds: 3600 },
    });
    const pending = await invitations.call("List", { status: "INVITATION_STATUS_PENDING" });
    const emails = pending.invitations.map((i: Message) => i.email);
    assert.ok(emails.includes("pending-1@example.com") && emails.includes("pending-2@example.com"));
    assert.ok(!emails.includes("newcomer@example.com"));
    const second = pending.invitations.find((i: Message) => i.email === "pending-2@example.com");
    assert.ok(Math.abs(Number(second.expires_at.seconds) * 1000 - (Date.now() + 3_600_000)) < 60_000);
    const accepted = await invitations.call("List", { status: "INVITATION_STATUS_ACCEPTED" });
    assert.deepEqual(
      accepted.invitations.map((i: Message) => i.email),
      ["newcomer@example.com"],
    );
    const all = await invitations.call("List", { limit: 1 });
    assert.equal(all.invitations.length, 1);
    assert.ok(Number(all.total_size) >= 3);
    assert.equal(JSON.stringify(all).includes("rst_iv_"), false, "tokens are never listed");
  });

  it("refuses to invite an address of an existing user, or one with a pending invitation", async () => {
    await rejectsWith(invitations.call("Send", { email: "admin@localhost" }), ALREADY_EXISTS, "EMAIL_TAKEN");
    await rejectsWith(
      invitations.call("Send", { email: "PENDING-1@example.com", send_email: false }),
      ALREADY_EXISTS,
      "INVITATION_PENDING",
    );
  });

  it("rejects unknown, revoked, used and expired tokens with distinct errors", async () => {
    await rejectsWith(register("nobody", `rst_iv_${"0".repeat(38)}`), INVALID_ARGUMENT);
    const unknown = await invitations.call("Send", { email: "unknown@example.com", send_email: false });
    await invitations.call("Resend", { email: "unknown@example.com", send_email: false });
    await rejectsWith(register("unknown", unknown.token), NOT_FOUND, "INVITATION_TOKEN_UNKNOWN");

    const revoked = await invitations.call("Send", { email: "revoked@example.com", send_email: false });
    await invitations.call("Delete", { email: "revoked@example.com" });
    await rejectsWith(register("revoked", revoked.token), FAILED_PRECONDITION, "INVITATION_REVOKED");
    assert.equal(
      (await invitations.call("Get", { email: "revoked@example.com" })).invitation.status,
      "INVITATION_STATUS_REVOKED",
    );

    const used = await invitations.call("Send", { email: "used@example.com", send_email: false });
    await register("used-once", used.token);
    await rejectsWith(register("used-twice", used.token), FAILED_PRECONDITION, "INVITATION_USED");

    const expiring = await invitations.call("Send", {
      email: "expiring@example.com",
      send_email: false,
      expires_in: { seconds: 1 },
    });
    await new Promise((r) => setTimeout(r, 1300));
    await rejectsWith(register("expired", expiring.token), FAILED_PRECONDITION, "INVITATION_EXPIRED");
    assert.equal(
      (await invitations.call("Get", { email: "expiring@example.com" })).invitation.status,
      "INVITATION_STATUS_EXPIRED",
    );
    // An expired invitation can be resent; the new token works.
    const resent = await invitations.call("Resend", { email: "expiring@example.com", send_email: false });
    assert.equal(resent.invitation.status, "INVITATION_STATUS_PENDING");
    assert.equal((await register("expired-then-resent", resent.token)).user.user_id, "expired-then-resent");
  });

  it("creates exactly one user from 10 concurrent registrations with one token", async () => {
    const { token } = await invitations.call("Send", { email: "racer@example.com", send_email: false });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => register(`racer-${i}`, token)));
    const winners = results.filter((r) => r.status === "fulfilled");
    assert.equal(winners.length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as { reason: string }).reason, "INVITATION_USED");
    }
    const found = await admin.call("Search", { id_contains: "racer-" });
    assert.equal(Number(found.total_size), 1);
    const invitation = (await invitations.call("Get", { email: "racer@example.com" })).invitation;
    assert.equal(invitation.status, "INVITATION_STATUS_ACCEPTED");
    assert.equal(invitation.accepted_by, found.users[0].user_id);
  });

  it("refuses sign-up without a token in invitation-required mode", async () => {
    await rejectsWith(
      anonymous.call("Create", {
        user: { user_id: "gatecrasher", primary_email_address: "g@example.com" },
        password: "a fine passphrase",
      }),
      PERMISSION_DENIED,
      "INVITATION_REQUIRED",
    );
  });

  it("gives the new user the invitation's admin flag and state, and never lets invitees set them", async () => {
    const { token } = await invitations.call("Send", {
      email: "future-admin@example.com",
      send_email: false,
      admin: true,
      state: "STATE_FLAGGED",
    });
    await rejectsWith(
      anonymous.call("Create", {
        user: { user_id: "sneaky", admin: true },
        password: "a fine passphrase",
        invitation_token: token,
      }),
      PERMISSION_DENIED,
    );
    const { user } = await register("future-admin", token);
    assert.equal(user.admin, true);
    assert.equal(user.state, "STATE_FLAGGED");
  });

  it("follows Wallaroo's invite: an initial password that must be changed, or a temporary one by email", async () => {
    const withPassword = await invitations.call("Send", {
      email: "wallaroo-1@example.com",
      send_email: false,
      initial_password: "initial passphrase",
    });
    assert.equal(withPassword.invitation.has_initial_password, true);
    const created = await anonymous.call("Create", {
      user: { user_id: "wallaroo-1" },
      invitation_token: withPassword.token,
    });
    assert.equal(created.user.require_password_update, true);
    const access = client("roster.v1.UserAccess");
    const first = await access.call("Authenticate", { user_id_or_email: "wallaroo-1", password: "initial passphrase" });
    assert.equal(first.password_update_required, true);

    const without = await invitations.call("Send", { email: "wallaroo-2@example.com", send_email: false });
    await anonymous.call("Create", { user: { user_id: "wallaroo-2" }, invitation_token: without.token });
    const mail = await smtp.waitFor((m) => recipients(m).includes("wallaroo-2@example.com"));
    assert.equal(mail.subject, "Your temporary password");
    const temporary =
      (mail.text ?? "")
        .split("\n")
        .find((l) => /^[A-Za-z0-9]{20}$/.test(l.trim()))
        ?.trim() ?? "";
    const login = await access.call("Authenticate", { user_id_or_email: "wallaroo-2", password: temporary });
    assert.equal(login.password_update_required, true);
  });

  it("is for admins with the invitations right only", async () => {
    const u = await createUser(server, { userId: "not-inviting" });
    await rejectsWith(
      client("roster.v1.InvitationRegistry", u.key).call("Send", { email: "x@example.com" }),
      PERMISSION_DENIED,
    );
    await rejectsWith(client("roster.v1.InvitationRegistry").call("List", {}), grpc.status.UNAUTHENTICATED);
  });
});

describe("open registration with admin approval", () => {
  let smtp: TestSmtp;
  let server: TestServer;
  const clients: GrpcClient[] = [];
  before(async () => {
    smtp = await startSmtp();
    server = await startServer({
      args: ["--smtp-url", smtp.url, "--registration", "open", "--registration-approval", "admin"],
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
    await smtp.close();
  });

  it("leaves self-registered users REQUESTED with restricted rights, and emails the admins", async () => {
    const anonymous = grpcClient(server, "roster.v1.UserRegistry");
    clients.push(anonymous);
    const { user } = await anonymous.call("Create", {
      user: { user_id: "hopeful", name: "Hope", primary_email_address: "hopeful@example.com" },
      password: "a fine passphrase",
    });
    assert.equal(user.state, "STATE_REQUESTED");
    const mail = await smtp.waitFor((m) => m.subject === "New account awaiting approval: hopeful");
    assert.match(recipients(mail), /admin@localhost/);

    const access = grpcClient(server, "roster.v1.UserAccess");
    clients.push(access);
    const { token, rights } = await access.call("Authenticate", {
      user_id_or_email: "hopeful",
      password: "a fine passphrase",
    });
    assert.deepEqual(rights, ["RIGHT_USER_INFO", "RIGHT_USER_PASSWORD"]);
    const asHopeful = grpcClient(server, "roster.v1.UserRegistry", token);
    clients.push(asHopeful);
    assert.equal(
      (await asHopeful.call("GetCurrent", { field_mask: { paths: ["state"] } })).user.state,
      "STATE_REQUESTED",
    );
    await rejectsWith(
      asHopeful.call("Update", { user: { user_id: "hopeful", name: "x" }, update_mask: { paths: ["name"] } }),
      PERMISSION_DENIED,
    );

    const admin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    clients.push(admin);
    await admin.call("Update", {
      user: { user_id: "hopeful", state: "STATE_APPROVED" },
      update_mask: { paths: ["state"] },
    });
    const approved = await smtp.waitFor((m) => m.subject === "Your account is approved");
    assert.match(recipients(approved), /hopeful@example.com/);
    await asHopeful.call("Update", { user: { user_id: "hopeful", name: "Hope!" }, update_mask: { paths: ["name"] } });
  });

  it("requires a password to self-register and refuses admin-only fields", async () => {
    const anonymous = grpcClient(server, "roster.v1.UserRegistry");
    clients.push(anonymous);
    await rejectsWith(
      anonymous.call("Create", { user: { user_id: "no-pass", primary_email_address: "np@example.com" } }),
      INVALID_ARGUMENT,
    );
    await rejectsWith(
      anonymous.call("Create", {
        user: { user_id: "self-admin", primary_email_address: "sa@example.com", admin: true },
        password: "a fine passphrase",
      }),
      PERMISSION_DENIED,
      "ADMIN_ONLY_FIELDS",
    );
  });
});
