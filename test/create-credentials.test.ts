/**
 * Credentials at creation, each source system's way (issue 11, item 3):
 * REANA's user-create hands out an access token, Conch's create with
 * send_mail mails a temporary password.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simpleParser } from "mailparser";
import { roster } from "./support/cli.js";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";
import { recipients } from "./support/smtp.js";

describe("credentials at creation", () => {
  let server: TestServer;
  let users: GrpcClient;
  before(async () => {
    server = await startServer();
    users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
  });
  after(async () => {
    users.close();
    await server.stop();
  });

  it("gives the new user an API key with every user right when asked (REANA), shown once", async () => {
    const res = await users.call("Create", {
      user: { primary_email_address: "reana.user@example.org" },
      create_api_key: true,
    });
    assert.equal(res.user.user_id, "reanauser");
    assert.match(res.api_key, /^rst_ak_/);
    const asUser = grpcClient(server, "roster.v1.UserRegistry", res.api_key);
    const { user } = await asUser.call("GetCurrent", {});
    asUser.close();
    assert.equal(user.user_id, "reanauser");
    const got = await users.call("Get", { user_id: "reanauser" });
    assert.ok(!JSON.stringify(got).includes(res.api_key), "the secret is not shown again");
  });

  it("mails a temporary password that must be changed when asked (Conch's send_mail), and returns none", async () => {
    const res = await users.call("Create", {
      user: { user_id: "conch-new", primary_email_address: "conch.new@example.org" },
      send_email: true,
    });
    assert.equal(res.user.require_password_update, true);
    assert.equal(res.api_key, "");
    const outbox = join(server.dataDir, "outbox");
    let mail: Awaited<ReturnType<typeof simpleParser>> | undefined;
    for (const deadline = Date.now() + 15_000; !mail && Date.now() < deadline; ) {
      for (const f of (() => {
        try {
          return readdirSync(outbox).filter((n) => n.endsWith(".eml"));
        } catch {
          return [];
        }
      })()) {
        const parsed = await simpleParser(readFileSync(join(outbox, f)));
        if (recipients(parsed) === "conch.new@example.org") mail = parsed;
      }
      if (!mail) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(mail, "a mail reached the new user");
    const password = /password[^\n]*?:\s*(\S+)/i.exec(mail.text ?? "")?.[1] ?? "";
    assert.ok(password.length >= 8, `the mail holds the temporary password:\n${mail.text}`);
    const access = grpcClient(server, "roster.v1.UserAccess");
    const login = await access.call("Authenticate", { user_id_or_email: "conch.new@example.org", password });
    access.close();
    assert.equal(login.user_id, "conch-new");
    assert.ok(!server.stdout().includes(password) && !server.stderr().includes(password), "never logged");
  });

  it("keeps both options for admins", async () => {
    const plain = await createUser(server, { userId: "plain-user" });
    const asUser = grpcClient(server, "roster.v1.UserRegistry", plain.key);
    await rejectsWith(
      asUser.call("Create", {
        user: { primary_email_address: "other@example.org" },
        create_api_key: true,
        password: "a long passphrase",
      }),
      grpc.status.PERMISSION_DENIED,
    );
    asUser.close();
  });

  it("creates with a key from the CLI: roster users create --primary-email-address ... --create-api-key", async () => {
    const res = await roster(
      ["users", "create", "--primary-email-address", "john.doe@example.org", "--create-api-key", "--output", "json"],
      { server },
    );
    assert.equal(res.code, 0, res.stderr);
    const out = res.json();
    assert.equal(out.user.user_id, "johndoe");
    assert.match(out.api_key, /^rst_ak_/);
  });
});
