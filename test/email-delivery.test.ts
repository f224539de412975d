import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { simpleParser } from "mailparser";
import { MongoClient } from "mongodb";
import { ClientPool, grpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { logLines, startServer, type TestServer, testDatabaseUri } from "./support/server.js";
import { recipients, startSmtp, type TestSmtp } from "./support/smtp.js";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe("email delivery", () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("queues through an SMTP outage and a restart, then delivers exactly once", async () => {
    const port = await freePort();
    const mongodbUri = testDatabaseUri();
    const dataDir = mkdtempSync(join(tmpdir(), "roster-mail-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const args = ["--smtp-url", `smtp://127.0.0.1:${port}`, "--email-retry-delay", "300ms"];
    const first = await startServer({ mongodbUri, dataDir, args });
    const invitations = grpcClient(first, "roster.v1.InvitationRegistry", first.adminKey);
    const { token } = await invitations.call("Send", { email: "patient@example.com" });
    invitations.close();

    const db = new MongoClient(mongodbUri);
    cleanups.push(() => db.close());
    const queued = () => db.db().collection("email_queue").findOne({ to: "patient@example.com" });
    const deadline = Date.now() + 10_000;
    while (((await queued())?.attempts ?? 0) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const pending = await queued();
    assert.equal(pending?.status, "pending");
    assert.ok(pending?.attempts >= 2, "delivery was tried and failed while SMTP was down");
    assert.match(pending?.last_error, /ECONNREFUSED|connect/i);
    assert.equal(JSON.stringify(pending).includes(token), false, "the queued body is sealed");
    assert.equal(await first.stop(), 0);

    const smtp: TestSmtp = await startSmtp(port);
    cleanups.push(() => smtp.close());
    const second: TestServer = await startServer({ mongodbUri, dataDir, args, expectBootstrap: false });
    cleanups.push(() => second.stop());
    const mail = await smtp.waitFor((m) => recipients(m).includes("patient@example.com"));
    assert.ok(mail.text?.includes(token));
    await new Promise((r) => setTimeout(r, 2000));
    const copies = smtp.messages.filter((m) => m.messageId === mail.messageId);
    assert.equal(copies.length, 1, "delivered once");
    const sent = await queued();
    assert.equal(sent?.status, "sent");
    assert.equal(sent?.sealed, null, "the body is dropped once sent");
  });

  it("writes well-formed .eml files to the outbox when no SMTP server is configured", async () => {
    const server = await startServer();
    cleanups.push(() => server.stop());
    const invitations = grpcClient(server, "roster.v1.InvitationRegistry", server.adminKey);
    const { token } = await invitations.call("Send", { email: "outbox@example.com" });
    invitations.close();
    const outbox = join(server.dataDir, "outbox");
    const deadline = Date.now() + 10_000;
    let files: string[] = [];
    while (Date.now() < deadline) {
      files = (() => {
        try {
          return readdirSync(outbox).filter((f) => f.endsWith(".eml"));
        } catch {
          return [];
        }
      })();
      if (files.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(files.length, 1);
    const mail = await simpleParser(readFileSync(join(outbox, files[0] as string)));
    assert.equal(recipients(mail), "outbox@example.com");
    assert.match(mail.from?.text ?? "", /roster@localhost/);
    assert.equal(mail.subject, "You are invited to Roster");
    assert.match(mail.messageId ?? "", /^<em[0-9a-z]+@localhost>$/);
    assert.ok(mail.text?.includes(token) && typeof mail.html === "string" && mail.html.includes(token));
    assert.ok(mail.date instanceof Date);
    // The log line follows the file (the outcome is stored first) and comes through a pipe.
    assert.equal((await logLines(server, (l) => l.msg === "email sent")).length, 1);
  });

  describe("notifications", () => {
    let smtp: TestSmtp;
    let server: TestServer;
    const clients = new ClientPool();
    const client = (service: string, key?: string) => clients.open(server, service, key);
    const mailTo = (address: string, subject: string) =>
      smtp.waitFor((m) => recipients(m).includes(address) && m.subject === subject);

    it("tells users about password changes, new API keys and state changes, unless an admin suppresses it", async () => {
      smtp = await startSmtp();
      server = await startServer({ args: ["--smtp-url", smtp.url] });
      cleanups.push(async () => {
        clients.closeAll();
        await server.stop();
        await smtp.close();
      });
      const u = await createUser(server, { userId: "notified", password: "first passphrase" });
      await mailTo(u.email, "A new API key was created for your account");
      await client("roster.v1.UserAccess", u.key).call("UpdatePassword", {
        old_password: "first passphrase",
        new_password: "second passphrase",
      });
      await mailTo(u.email, "Your password was changed");

      const admin = client("roster.v1.UserRegistry", server.adminKey);
      await admin.call("Update", {
        user: { user_id: "notified", state: "STATE_SUSPENDED", state_description: "unpaid invoice" },
        update_mask: { paths: ["state", "state_description"] },
      });
      const suspended = await mailTo(u.email, "Your account is suspended");
      assert.match(suspended.text ?? "", /unpaid invoice/);
      await admin.call("Update", {
        user: { user_id: "notified", state: "STATE_APPROVED" },
        update_mask: { paths: ["state"] },
        send_email: false,
      });
      const access = client("roster.v1.UserAccess", server.adminKey);
      await access.call("CreateAPIKey", { user_id: "notified", name: "quiet", send_email: false });
      const reset = await access.call("CreateTemporaryPassword", { user_id: "notified", send_email: true });
      assert.equal(reset.temporary_password, "", "emailed, not returned");
      const temp = await mailTo(u.email, "Your temporary password");
      const password = (temp.text ?? "")
        .split("\n")
        .find((l) => /^[A-Za-z0-9]{20}$/.test(l.trim()))
        ?.trim();
      const login = await client("roster.v1.UserAccess").call("Authenticate", {
        user_id_or_email: "notified",
        password,
      });
      assert.equal(login.password_update_required, true);
      await new Promise((r) => setTimeout(r, 1500));
      const subjects = smtp.messages.filter((m) => recipients(m).includes(u.email)).map((m) => m.subject);
      assert.deepEqual(subjects.sort(), [
        "A new API key was created for your account",
        "Your account is suspended",
        "Your password was changed",
        "Your temporary password",
      ]);
    });
  });
});
