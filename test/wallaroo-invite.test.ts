/**
 * Wallaroo's invite (issue 11, item 3): `roster users invite EMAIL` creates
 * the approved user at once, with the given password or a temporary one,
 * both to be changed at the first sign-in, and emails them; Conch's create
 * mails whom an admin creates with a password, unless told not to.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { mailsTo } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

describe("inviting users as Wallaroo does, and Conch's create mail", () => {
  let server: TestServer;
  let users: GrpcClient;
  let access: GrpcClient;
  before(async () => {
    server = await startServer();
    users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    access = grpcClient(server, "roster.v1.UserAccess");
  });
  after(async () => {
    users.close();
    access.close();
    await server.stop();
  });

  const login = (id: string, password: string) => access.call("Authenticate", { user_id_or_email: id, password });

  it("invites with a chosen password: an approved user at once, mailed without the password, who must change it first", async () => {
    const res = await roster(["users", "invite", "new.user@example.org", "--password-stdin", "--output", "json"], {
      server,
      input: "a chosen passphrase\n",
    });
    assert.equal(res.code, 0, res.stderr);
    const user = res.json();
    assert.equal(user.user_id, "newuser");
    assert.equal(user.primary_email_address, "new.user@example.org");
    assert.equal(user.state, "STATE_APPROVED");
    assert.equal(user.require_password_update, true);
    const signIn = await login("new.user@example.org", "a chosen passphrase");
    assert.equal(signIn.user_id, "newuser");
    assert.equal(signIn.password_update_required, true, "the given password must be changed at the first sign-in");
    const [mail, ...more] = await mailsTo(server, "new.user@example.org", { count: 1 });
    assert.equal(more.length, 0);
    assert.equal(mail?.subject, "An account was created for you");
    assert.match(mail?.text ?? "", /admin created the account newuser for you/);
    assert.match(mail?.text ?? "", /choose a new password/);
    assert.ok(!mail?.text.includes("a chosen passphrase"), "the chosen password is never mailed");
  });

  it("invites without a password: the mail holds a temporary one, shown nowhere else", async () => {
    const res = await roster(["users", "invite", "Temp.User@example.org", "--output", "json"], { server });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().user_id, "tempuser");
    const [mail] = await mailsTo(server, "Temp.User@example.org", { count: 1 });
    const password = /temporary password:\s*(\S+)/i.exec(mail?.text ?? "")?.[1] ?? "";
    assert.ok(password.length >= 8, `the mail holds a temporary password:\n${mail?.text}`);
    assert.ok(!res.stdout.includes(password) && !res.stderr.includes(password));
    assert.ok(!server.stdout().includes(password) && !server.stderr().includes(password), "never logged");
    const signIn = await login("temp.user@example.org", password);
    assert.equal(signIn.password_update_required, true);
  });

  it("refuses an address already in use, as Wallaroo does", async () => {
    const res = await roster(["users", "invite", "new.user@example.org"], { server });
    assert.equal(res.code, 5, res.stderr);
    assert.match(res.stderr, /EMAIL_TAKEN|already/i);
  });

  it("is an admin's: a user without admin rights cannot invite", async () => {
    const plain = await createUser(server, { userId: "plain-inviter" });
    const res = await roster(["users", "invite", "someone@example.org"], { server, key: plain.key });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /PERMISSION_DENIED|send_email|permission/i);
  });

  it("mails whom an admin creates with a password (Conch's create), never the password; send_email false mails nothing", async () => {
    await users.call("Create", {
      user: { user_id: "conch-made", primary_email_address: "conch.made@example.org" },
      password: "an admin's passphrase",
    });
    const [mail, ...more] = await mailsTo(server, "conch.made@example.org", { count: 1 });
    assert.equal(more.length, 0);
    assert.equal(mail?.subject, "An account was created for you");
    assert.match(mail?.text ?? "", /Sign in with the password you were given/);
    assert.ok(!mail?.text.includes("an admin's passphrase"));
    assert.equal((await login("conch-made", "an admin's passphrase")).password_update_required, false);

    await users.call("Create", {
      user: { user_id: "conch-quiet-made", primary_email_address: "conch.quiet@example.org" },
      password: "an admin's passphrase",
      send_email: false,
    });
    await users.call("Create", { user: { user_id: "no-password", primary_email_address: "no.password@example.org" } });
    assert.deepEqual(await mailsTo(server, "conch.quiet@example.org"), []);
    assert.deepEqual(await mailsTo(server, "no.password@example.org", { settle: 0 }), []);
  });

  it("sends no account mail to self-registered users, who chose their own password (only the address check)", async () => {
    const open = await startServer({ args: ["--registration", "open", "--registration-approval", "auto"] });
    try {
      const anonymous = grpcClient(open, "roster.v1.UserRegistry");
      await anonymous.call("Create", {
        user: { user_id: "selfmade", primary_email_address: "self.made@example.org" },
        password: "my own passphrase",
      });
      anonymous.close();
      await mailsTo(open, "self.made@example.org", { count: 1 });
      const mails = await mailsTo(open, "self.made@example.org");
      assert.deepEqual(
        mails.map((m) => m.subject),
        ["Confirm your email address"],
      );
      await rejectsWith(
        grpcClient(open, "roster.v1.UserRegistry").call("Create", {
          user: { user_id: "selfmail", primary_email_address: "self.mail@example.org" },
          password: "my own passphrase",
          send_email: true,
        }),
        grpc.status.PERMISSION_DENIED,
      );
    } finally {
      await open.stop();
    }
  });
});
