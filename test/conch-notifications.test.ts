/**
 * Conch's notification and token rules (issue 11, item 5): admins' token
 * revocations, password resets and updates are mailed to the user unless
 * send_email is false, acting on oneself mails nothing, and an admin's
 * revocation of login tokens makes the next login change the password
 * while API keys keep working.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simpleParser } from "mailparser";
import { ClientPool, type GrpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";
import { recipients } from "./support/smtp.js";

describe("Conch's notifications and token rules", () => {
  let server: TestServer;
  let admin: { users: GrpcClient; access: GrpcClient };
  const clients = new ClientPool();
  const client = (service: string, key?: string) => clients.open(server, service, key);
  before(async () => {
    server = await startServer();
    admin = {
      users: client("roster.v1.UserRegistry", server.adminKey),
      access: client("roster.v1.UserAccess", server.adminKey),
    };
  });
  after(async () => {
    clients.closeAll();
    await server.stop();
  });

  /**
   * The mails to `to` so far, after the queue has had time to deliver,
   * except the fixture's "new API key" mail.
   */
  async function mailsTo(to: string, settle = 1500): Promise<{ subject: string; text: string }[]> {
    await new Promise((r) => setTimeout(r, settle));
    const outbox = join(server.dataDir, "outbox");
    let files: string[] = [];
    try {
      files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
    } catch {}
    const mails: { subject: string; text: string }[] = [];
    for (const f of files) {
      const mail = await simpleParser(readFileSync(join(outbox, f)));
      if (recipients(mail) === to && !mail.subject?.startsWith("A new API key"))
        mails.push({ subject: mail.subject ?? "", text: mail.text ?? "" });
    }
    return mails;
  }
  const login = (id: string, password: string) =>
    client("roster.v1.UserAccess").call("Authenticate", { user_id_or_email: id, password });

  it("mails the user about an admin's revocation of login tokens, whose next login must change the password; keys keep working", async () => {
    const u = await createUser(server, { userId: "conch-revoked", password: "a fine passphrase" });
    await admin.access.call("RevokeTokens", { user_id: "conch-revoked", kind: "TOKEN_KIND_LOGIN" });
    const { user } = await client("roster.v1.UserRegistry", u.key).call("GetCurrent", {});
    assert.equal(user.user_id, "conch-revoked", "the API key still works");
    assert.equal((await login("conch-revoked", "a fine passphrase")).password_update_required, true);
    const mails = await mailsTo(u.email);
    assert.deepEqual(
      mails.map((m) => m.subject),
      ["Your sign-ins were revoked"],
    );
    assert.match(mails[0]?.text ?? "", /admin revoked the login tokens/);
  });

  it("mails nothing with send_email false, and nothing when users revoke their own tokens (no forced change either)", async () => {
    const u = await createUser(server, { userId: "conch-quiet", password: "a fine passphrase" });
    await admin.access.call("RevokeTokens", { user_id: "conch-quiet", kind: "TOKEN_KIND_API_KEY", send_email: false });
    const v = await createUser(server, { userId: "conch-self", password: "a fine passphrase" });
    const token = (await login("conch-self", "a fine passphrase")).token;
    await client("roster.v1.UserAccess", token).call("RevokeTokens", { kind: "TOKEN_KIND_LOGIN" });
    assert.equal((await login("conch-self", "a fine passphrase")).password_update_required, false);
    assert.deepEqual(await mailsTo(u.email), []);
    assert.deepEqual(await mailsTo(v.email, 0), []);
  });

  it("mails a reset password by default and returns it only when asked not to mail", async () => {
    const u = await createUser(server, { userId: "conch-reset", password: "a fine passphrase" });
    const mailed = await admin.access.call("CreateTemporaryPassword", { user_id: "conch-reset" });
    assert.equal(mailed.temporary_password, "");
    const mails = await mailsTo(u.email);
    assert.deepEqual(
      mails.map((m) => m.subject),
      ["Your temporary password"],
    );
    const returned = await admin.access.call("CreateTemporaryPassword", { user_id: "conch-reset", send_email: false });
    assert.ok(returned.temporary_password.length >= 8);
    assert.equal((await mailsTo(u.email)).length, 1, "no second mail");
  });

  it("mails the user about an admin's update, naming the fields, but not about their own or with send_email false", async () => {
    const u = await createUser(server, { userId: "conch-updated" });
    await admin.users.call("Update", {
      user: { user_id: "conch-updated", name: "New Name", description: "changed" },
      update_mask: { paths: ["name", "description"] },
    });
    await admin.users.call("Update", {
      user: { user_id: "conch-updated", name: "Quiet Name" },
      update_mask: { paths: ["name"] },
      send_email: false,
    });
    await client("roster.v1.UserRegistry", u.key).call("Update", {
      user: { user_id: "conch-updated", name: "My Own Name" },
      update_mask: { paths: ["name"] },
    });
    const mails = await mailsTo(u.email);
    assert.deepEqual(
      mails.map((m) => m.subject),
      ["Your account was changed"],
    );
    assert.match(mails[0]?.text ?? "", /admin changed your account conch-updated: name, description/);
  });

  it("deactivates keeping the tokens with clear_tokens false: they fail while suspended and work again after setup", async () => {
    const u = await createUser(server, { userId: "conch-kept", password: "a fine passphrase" });
    const { token } = await login("conch-kept", "a fine passphrase");
    const works = (key: string) =>
      client("roster.v1.UserRegistry", key)
        .call("GetCurrent", {})
        .then(
          (r) => r.user.user_id as string,
          () => undefined,
        );
    const res = await admin.users.call("Unsetup", { user_id: "conch-kept", clear_tokens: false, reason: "on leave" });
    assert.equal(res.user.state, "STATE_SUSPENDED");
    assert.equal(res.tokens_revoked, "0");
    assert.equal(await works(u.key), undefined, "a suspended user's key does not work");
    assert.equal(await works(token), undefined);
    await admin.users.call("Setup", { user_id: "conch-kept" });
    assert.equal(await works(u.key), "conch-kept", "the kept key works again");
    assert.equal(await works(token), "conch-kept", "the kept login token too");

    await admin.users.call("Unsetup", { user_id: "conch-kept" });
    await admin.users.call("Setup", { user_id: "conch-kept" });
    assert.equal(await works(u.key), undefined, "by default every token is revoked");
    assert.equal(await works(token), undefined);
  });

  it("mails the deactivated user the reason, unless send_email is false", async () => {
    const u = await createUser(server, { userId: "conch-off" });
    await admin.users.call("Unsetup", { user_id: "conch-off", reason: "contract ended" });
    const v = await createUser(server, { userId: "conch-off-quiet" });
    await admin.users.call("Unsetup", { user_id: "conch-off-quiet", send_email: false });
    const mails = await mailsTo(u.email);
    assert.deepEqual(
      mails.map((m) => m.subject),
      ["Your account is suspended"],
    );
    assert.match(mails[0]?.text ?? "", /Reason: contract ended/);
    assert.deepEqual(await mailsTo(v.email, 0), []);
  });
});
