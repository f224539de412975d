import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";
import { recipients, startSmtp, type TestSmtp, tokenIn } from "./support/smtp.js";

/**
 * The Things Stack's invitation walkthrough and Wallaroo's invite, with
 * `roster` in place of ttn-lw-cli and the Wallaroo API, and the emails
 * caught by a real SMTP server.
 */
describe("invitations from the command line (The Things Stack, Wallaroo)", () => {
  let smtp: TestSmtp;
  let server: TestServer;
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });
  /** The invitee: no API key, a config folder of their own (for `roster login`). */
  const invitee = () => ({ key: null, configHome: mkdtempSync(join(tmpdir(), "roster-invitee-")) });

  before(async () => {
    smtp = await startSmtp();
    server = await startServer({ args: ["--smtp-url", smtp.url] });
  });
  after(async () => {
    await server.stop();
    await smtp.close();
  });

  it("creates, lists (email, status, expiry), accepts through the emailed token, and deletes to revoke", async () => {
    const created = await cli(["users", "invitations", "create", "ttn-user@example.com", "--expires-in", "7d"]);
    assert.equal(created.code, 0, created.stderr);
    const week = Date.parse(created.json().invitation.expires_at) - Date.now();
    assert.ok(Math.abs(week - 7 * 86_400_000) < 60_000);

    const list = await cli(["users", "invitations", "list", "--pending", "-o", "table"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /ttn-user@example\.com/);
    assert.match(list.stdout, /PENDING/);
    assert.match(list.stdout, /EXPIRES_AT/);

    const mail = await smtp.waitFor((m) => recipients(m).includes("ttn-user@example.com"));
    const who = invitee();
    const registered = await cli(
      ["users", "create", "ttn-user", "--invitation-token", tokenIn(mail), "--password-stdin"],
      { ...who, input: "my own passphrase\n" },
    );
    assert.equal(registered.code, 0, registered.stderr);
    const accepted = await cli(["users", "invitations", "list", "--accepted"]);
    assert.match(accepted.stdout, /ttn-user/);

    await cli(["users", "invitations", "create", "changed-mind@example.com", "--send-email=false"]);
    const deleted = await cli(["users", "invitations", "delete", "changed-mind@example.com"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const revoked = await cli(["users", "invitations", "get", "changed-mind@example.com"]);
    assert.match(revoked.stdout, /INVITATION_STATUS_REVOKED/);
  });

  it("invites with an initial password that must be changed at first login (Wallaroo)", async () => {
    const sent = await cli(
      ["users", "invitations", "create", "wallaroo-a@example.com", "--password-stdin", "--send-email=false"],
      { input: "initial passphrase\n" },
    );
    assert.equal(sent.code, 0, sent.stderr);
    const who = invitee();
    const created = await cli(["users", "create", "wallaroo-a", "--invitation-token", sent.json().token], who);
    assert.equal(created.code, 0, created.stderr);
    const login = await cli(["login", "wallaroo-a", "--password-stdin"], { ...who, input: "initial passphrase\n" });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /password/i, "told to change the password first");
    const changed = await cli(["users", "update-password", "--old-password-stdin", "--new-password-stdin"], {
      ...who,
      input: "initial passphrase\nmy own new passphrase\n",
    });
    assert.equal(changed.code, 0, changed.stderr);
  });

  it("invites without a password: the new user gets a temporary one by email and must change it (Wallaroo)", async () => {
    const sent = await cli(["users", "invitations", "create", "wallaroo-b@example.com"]);
    assert.equal(sent.code, 0, sent.stderr);
    const invitation = await smtp.waitFor((m) => recipients(m).includes("wallaroo-b@example.com"));
    const who = invitee();
    const created = await cli(["users", "create", "wallaroo-b", "--invitation-token", tokenIn(invitation)], who);
    assert.equal(created.code, 0, created.stderr);
    const mail = await smtp.waitFor(
      (m) => recipients(m).includes("wallaroo-b@example.com") && m.subject === "Your temporary password",
    );
    const temporary = (mail.text ?? "")
      .split("\n")
      .find((l) => /^[A-Za-z0-9]{20}$/.test(l.trim()))
      ?.trim();
    const login = await cli(["login", "wallaroo-b", "--password-stdin"], { ...who, input: `${temporary}\n` });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /password/i);
  });
});
