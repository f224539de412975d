import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

/** `roster users invitations`: the InvitationRegistry as five command specs, and acceptance through `users create`. */
describe("roster users invitations", () => {
  let server: TestServer;
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });
  let token = "";

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("sends an invitation with typed flags and prints it with its token, once", async () => {
    const res = await cli([
      "users",
      "invitations",
      "send",
      "Invitee@Example.com",
      "--state",
      "approved",
      "--expires-in",
      "3600s",
      "--send-email=false",
    ]);
    assert.equal(res.code, 0, res.stderr);
    const { invitation, token: secret } = res.json();
    assert.equal(invitation.email, "invitee@example.com");
    assert.equal(invitation.status, "INVITATION_STATUS_PENDING");
    const lifetime = Date.parse(invitation.expires_at) - Date.parse(invitation.created_at);
    assert.ok(Math.abs(lifetime - 3600_000) < 5000, `expires in ${lifetime} ms`);
    assert.match(secret, /^rst_iv_/);
    token = secret;
    const got = await cli(["users", "invitations", "get", "invitee@example.com"]);
    assert.equal(got.json().email, "invitee@example.com");
    assert.ok(!got.stdout.includes(token), "the token is shown once");
  });

  it("lists invitations, filtered by status with or without its prefix", async () => {
    const pending = await cli(["users", "invitations", "list", "--status", "pending"]);
    assert.equal(pending.code, 0, pending.stderr);
    assert.deepEqual(
      pending.json().map((i: { email: string }) => i.email),
      ["invitee@example.com"],
    );
    const accepted = await cli(["users", "invitations", "list", "--status", "INVITATION_STATUS_ACCEPTED"]);
    assert.equal(accepted.stdout, "[]\n");
  });

  it("lets the invitee create their user with --invitation-token, without an API key", async () => {
    const res = await cli(
      [
        "users",
        "create",
        "invitee",
        "--primary-email-address",
        "invitee@example.com",
        "--invitation-token",
        token,
        "--password-stdin",
      ],
      { key: null, input: "invited and welcome 1\n" },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().primary_email_address, "invitee@example.com");
    const invitation = (await cli(["users", "invitations", "get", "invitee@example.com"])).json();
    assert.equal(invitation.status, "INVITATION_STATUS_ACCEPTED");
    assert.equal(invitation.accepted_by, "invitee");
  });

  it("revokes an invitation with delete, and resends another with a new token", async () => {
    assert.equal((await cli(["users", "invitations", "send", "later@example.com", "--no-send-email"])).code, 0);
    const first = await cli(["users", "invitations", "send", "again@example.com", "--send-email", "false"]);
    const resent = await cli(["users", "invitations", "resend", "again@example.com", "--send-email=false"]);
    assert.equal(resent.code, 0, resent.stderr);
    assert.notEqual(resent.json().token, first.json().token);

    const revoked = await cli(["users", "invitations", "revoke", "later@example.com"]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, "");
    const status = (await cli(["users", "invitations", "get", "later@example.com"])).json().status;
    assert.equal(status, "INVITATION_STATUS_REVOKED");
  });

  it("reads an initial password only from stdin, never asking for it", async () => {
    const res = await cli(
      ["users", "invitations", "send", "with-password@example.com", "--send-email=false", "--initial-password-stdin"],
      { input: "first login changes me 9\n" },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().invitation.has_initial_password, true);
  });

  it("refuses a second pending invitation for one address with ALREADY_EXISTS, exit 5", async () => {
    const res = await cli(["users", "invitations", "send", "again@example.com", "--send-email=false"]);
    assert.equal(res.code, 5);
    assert.match(res.stderr, /^error: ALREADY_EXISTS: /);
  });
});
