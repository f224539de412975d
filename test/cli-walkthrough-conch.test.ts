import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { mailsTo } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * Conch's user controller (../shared/seeds/conch-user-controller.md), the
 * methods in an order a new admin would try them, with `roster`: create
 * (mailed), list of active users, get, update (mailed), settings, API
 * tokens by name, revoke_user_tokens (mailed; the next login must change
 * the password), change_own_password, reset_user_password (mailed) and
 * deactivate (clear_tokens). The steps depend on each other and run in order.
 */
describe("walkthrough of Conch's user controller with roster", () => {
  let server: TestServer;
  const cli = (args: string[], options: Parameters<typeof roster>[1] = {}) => roster(args, { server, ...options });
  const email = "conch.user@joyent.example";
  let password = "a first passphrase 1";
  const login = async (pw: string) => {
    const access = grpcClient(server, "roster.v1.UserAccess");
    try {
      return await access.call("Authenticate", { user_id_or_email: email, password: pw });
    } finally {
      access.close();
    }
  };
  const subjects = async (count: number) => (await mailsTo(server, email, { count })).map((m) => m.subject);

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("create (send_mail defaults to true): the user is told the account exists, not the password", async () => {
    const res = await cli(["users", "create", "conch-u", "--primary-email-address", email, "--password-stdin"], {
      input: `${password}\n`,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(await subjects(1), ["An account was created for you"]);
    const quiet = await cli(
      [
        "users",
        "create",
        "conch-quiet",
        "--primary-email-address",
        "quiet@joyent.example",
        "--password-stdin",
        "--send-email=false",
      ],
      { input: "a quiet passphrase 2\n" },
    );
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.deepEqual(await mailsTo(server, "quiet@joyent.example"), []);
  });

  it("list: all active users, without the suspended ones", async () => {
    await cli(["users", "deactivate", "conch-quiet", "--send-email=false"]);
    const res = await cli(["users", "list", "--state", "approved", "--primary-email-address", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    const ids = res.json().map((u: { user_id: string }) => u.user_id);
    assert.deepEqual(ids, ["admin", "conch-u"]);
  });

  it("get and update (send_mail defaults to true; send_mail=0 is --send-email=false)", async () => {
    const got = await cli(["users", "get", email, "--name", "--primary-email-address", "--output", "json"]);
    assert.equal(got.json().user_id, "conch-u");
    const updated = await cli(["users", "update", email, "--name", "Conch User"]);
    assert.equal(updated.code, 0, updated.stderr);
    const silent = await cli(["users", "update", email, "--description", "quietly", "--send-email=false"]);
    assert.equal(silent.code, 0, silent.stderr);
    assert.deepEqual(await subjects(2), ["An account was created for you", "Your account was changed"]);
  });

  it("settings: set_setting, get_setting, get_settings, set_settings, delete_setting", async () => {
    assert.equal((await cli(["users", "settings", "set", email, "dc", '"us-east-1"'])).code, 0);
    assert.match((await cli(["users", "settings", "get", email, "dc"])).stdout, /us-east-1/);
    const replaced = await cli(["users", "settings", "replace", email, '{"theme": "dark", "rack": 4}']);
    assert.equal(replaced.code, 0, replaced.stderr);
    const all = await cli(["users", "settings", "get", email, "--output", "json"]);
    assert.deepEqual(all.json().settings, { theme: "dark", rack: 4 });
    assert.equal((await cli(["users", "settings", "unset", email, "theme"])).code, 0);
    assert.equal((await cli(["users", "settings", "get", email, "theme"])).code, 4);
  });

  it("API tokens: create_api_token, get_api_tokens, get_api_token and expire_api_token by name", async () => {
    const created = await cli(["users", "api-keys", "create", email, "--name", "deploy", "--output", "json"]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.json().key as string;
    assert.equal((await cli(["users", "current"], { key: token })).json().user_id, "conch-u");
    const listed = await cli(["users", "api-keys", "list", email, "--output", "json"]);
    assert.deepEqual(
      listed.json().map((k: { name: string }) => k.name),
      ["deploy"],
    );
    const got = await cli(["users", "api-keys", "get", email, "deploy", "--output", "json"]);
    assert.equal(got.json().name, "deploy");
    const expired = await cli(["users", "api-keys", "expire", email, "deploy"]);
    assert.equal(expired.code, 0, expired.stderr);
    assert.equal((await cli(["users", "current"], { key: token })).code, 6, "an expired token no longer works");
  });

  it("revoke_user_tokens?login_only=1: mailed; API tokens keep working; the next login must change the password", async () => {
    const kept = await cli(["users", "api-keys", "create", email, "--name", "ci", "--output", "json"]);
    const key = kept.json().key as string;
    await login(password);
    const res = await cli(["users", "tokens", "revoke", email, "--login-only"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await cli(["users", "current"], { key })).json().user_id, "conch-u", "API tokens are left alone");
    assert.equal((await login(password)).password_update_required, true, "user_session_auth");
    assert.ok((await subjects(4)).includes("Your sign-ins were revoked"));
  });

  it("change_own_password with clear_tokens", async () => {
    const { token } = await login(password);
    const next = "a second passphrase 3";
    const res = await cli(
      ["users", "update-password", "--old-password-stdin", "--new-password-stdin", "--clear-tokens", "all"],
      {
        key: token,
        input: `${password}\n${next}\n`,
      },
    );
    assert.equal(res.code, 0, res.stderr);
    password = next;
    assert.equal((await login(password)).password_update_required, false);
  });

  it("reset_user_password (send_mail defaults to true): a temporary password by email", async () => {
    const res = await cli(["users", "reset-password", email, "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!res.stdout.includes('temporary_password": "r'), "not printed when mailed");
    const mails = await mailsTo(server, email, { count: 6 });
    const mail = mails.find((m) => m.subject === "Your temporary password");
    const temporary = /:\s*\n?\s*(\S+)/.exec(mail?.text ?? "")?.[1] ?? "";
    assert.equal((await login(temporary)).password_update_required, true);
  });

  it("deactivate (clear_tokens defaults to true; false keeps them for a reactivation)", async () => {
    const kept = await cli(["users", "api-keys", "create", email, "--name", "kept", "--output", "json"]);
    const key = kept.json().key as string;
    const res = await cli(["users", "deactivate", email, "--clear-tokens=false", "--output", "json"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().tokens_revoked, undefined, "none revoked");
    assert.equal((await cli(["users", "current"], { key })).code, 6, "a deactivated user's token does not work");
    await cli(["users", "setup", email]);
    assert.equal((await cli(["users", "current"], { key })).json().user_id, "conch-u", "it works again");
    const cleared = await cli(["users", "deactivate", email, "--output", "json"]);
    assert.ok(Number(cleared.json().tokens_revoked) >= 1);
  });
});
