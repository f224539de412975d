import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { roster, rosterInTerminal } from "./support/cli.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * `roster login|logout` and the password and token commands of UserAccess,
 * with the flows of Arvados (authenticate, then current user) and Conch
 * (revoke login tokens only, change one's own password clearing every
 * token, an admin reset that forces a change).
 */
describe("roster login, logout and passwords", () => {
  let server: TestServer;
  const password = "correct horse battery 7";

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  /** A config folder of its own: one user's machine. */
  const home = () => mkdtempSync(join(tmpdir(), "roster-login-"));
  /** `roster` as that user: no API key, only what `roster login` stored in `configHome`. */
  const asUser = (configHome: string, args: string[], input?: string) =>
    roster(args, { server, key: null, configHome, input });
  const asAdmin = (args: string[], input?: string) => roster(args, { server, input });
  const loginsFile = (configHome: string) => join(configHome, "roster", "logins.json");

  async function logIn(configHome: string, user: string, secret = password) {
    const res = await asUser(configHome, ["login", user, "--password-stdin"], `${secret}\n`);
    assert.equal(res.code, 0, res.stderr);
    return res;
  }

  it("logs in on a terminal, asking for the user and the password without echoing it", async () => {
    const user = await createUser(server, { userId: "typist", password });
    const configHome = home();
    const res = await rosterInTerminal(
      ["login"],
      [
        { expect: "User id or email: ", send: `${user.email}\r` },
        { expect: "Password: ", send: `${password}\r` },
      ],
      { server, key: null, configHome },
    );
    assert.equal(res.code, 0, res.screen);
    assert.ok(!res.screen.includes(password), `the password was echoed:\n${res.screen}`);
    assert.match(res.screen, /"user_id": "typist"/);
    assert.match(res.screen, /note: logged in to http:\/\/127\.0\.0\.1:\d+ as typist until \d{4}-/);
    const current = await asUser(configHome, ["users", "current", "--primary-email-address"]);
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.json().primary_email_address, user.email);
  });

  it("logs in with --password-stdin, prints who and until when but not the token, and keeps it in a 0600 file", async () => {
    await createUser(server, { userId: "arvados-user", password });
    const configHome = home();
    const res = await logIn(configHome, "arvados-user");
    const shown = res.json();
    assert.equal(shown.user_id, "arvados-user");
    const lifetime = Date.parse(shown.expires_at) - Date.now();
    assert.ok(lifetime > 23 * 3600_000 && lifetime <= 24 * 3600_000, `expires in ${lifetime} ms`);
    assert.ok(shown.rights.includes("RIGHT_USER_INFO"));
    assert.equal(shown.token, undefined);
    assert.ok(!res.stdout.includes("rst_lt_") && !res.stderr.includes("rst_lt_"));

    const file = loginsFile(configHome);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(file, "utf8"))[server.url];
    assert.match(stored.token, /^rst_lt_/);
    assert.equal(stored.user_id, "arvados-user");
  });

  it("uses the stored token as the credential: authenticate, then the current user (Arvados)", async () => {
    const configHome = home();
    await logIn(configHome, "arvados-user");
    const current = await asUser(configHome, ["users", "current", "--name"]);
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.json().user_id, "arvados-user");
    const rights = await asUser(configHome, ["users", "rights"]);
    assert.equal(rights.json().token_kind, "login");
    // An API key, given, wins over the stored login.
    const asAdminToo = await roster(["users", "current"], { server, configHome });
    assert.equal(asAdminToo.json().user_id, "admin");
    // The token belongs to the server that issued it: another server never gets it.
    const elsewhere = await roster(["users", "rights"], {
      key: null,
      configHome,
      env: { ROSTER_SERVER: server.url.replace("127.0.0.1", "localhost") },
    });
    assert.equal(elsewhere.code, 6, elsewhere.stderr);
  });

  it("does not send a stored login that has expired, and says so", async () => {
    const configHome = home();
    await logIn(configHome, "arvados-user");
    const file = loginsFile(configHome);
    const logins = JSON.parse(readFileSync(file, "utf8"));
    logins[server.url].expires_at = "2020-01-01T00:00:00Z";
    writeFileSync(file, JSON.stringify(logins));
    const res = await asUser(configHome, ["users", "current"]);
    assert.equal(res.code, 6);
    assert.match(
      res.stderr,
      /note: the login as arvados-user expired at 2020-01-01T00:00:00Z; roster login logs in again/,
    );
  });

  it("refuses a wrong password with exit code 6 and stores nothing", async () => {
    const configHome = home();
    const res = await asUser(configHome, ["login", "arvados-user", "--password-stdin"], "wrong password 1\n");
    assert.equal(res.code, 6);
    assert.match(res.stderr, /^error: UNAUTHENTICATED: /);
    assert.throws(() => statSync(loginsFile(configHome)));
  });

  it("needs the user as an argument when stdin is not a terminal", async () => {
    const res = await asUser(home(), ["login", "--password-stdin"], `${password}\n`);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /user-id-or-email needed: stdin is not a terminal, so give it as an argument/);
  });

  it("logs out: the token stops working and is forgotten; a second logout still succeeds", async () => {
    const configHome = home();
    await logIn(configHome, "arvados-user");
    const token = JSON.parse(readFileSync(loginsFile(configHome), "utf8"))[server.url].token;
    const out = await asUser(configHome, ["logout"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /note: logged out of http:/);
    assert.throws(() => statSync(loginsFile(configHome)), "the file goes with its last login");
    assert.equal((await roster(["users", "current"], { server, key: token })).code, 6);
    const again = await asUser(configHome, ["logout"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /note: not logged in to /);
  });

  it("logs out even when the server no longer knows the token", async () => {
    const configHome = home();
    await logIn(configHome, "arvados-user");
    const revoke = await asAdmin(["users", "tokens", "revoke", "arvados-user", "--login-only"]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const out = await asUser(configHome, ["logout"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /had expired or was revoked already; it is forgotten/);
    assert.throws(() => statSync(loginsFile(configHome)));
  });

  it("revokes login tokens only, leaving API keys working (Conch login_only)", async () => {
    const user = await createUser(server, { userId: "conch-user", password });
    const configHome = home();
    await logIn(configHome, "conch-user");
    const res = await asUser(configHome, ["users", "tokens", "revoke", "--login-only"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().login_tokens_revoked, "1");
    assert.equal(res.json().api_keys_revoked, undefined);
    assert.equal((await asUser(configHome, ["users", "current"])).code, 6);
    assert.equal((await roster(["users", "current"], { server, key: user.key })).code, 0);
  });

  it("revokes API keys only, or what was issued before a time, and refuses two kinds at once", async () => {
    const user = await createUser(server, { userId: "revoked-keys" });
    const later = await asAdmin(["users", "tokens", "revoke", "revoked-keys", "--before", "2020-01-01T00:00:00Z"]);
    assert.equal(later.code, 0, later.stderr);
    assert.equal((await roster(["users", "current"], { server, key: user.key })).code, 0, "issued after 2020");
    const both = await asAdmin(["users", "tokens", "revoke", "revoked-keys", "--login-only", "--api-only"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--login-only, --api-only: give only one of them/);
    const res = await asAdmin(["users", "tokens", "revoke", "revoked-keys", "--api-only"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json().api_keys_revoked, "1");
    assert.equal((await roster(["users", "current"], { server, key: user.key })).code, 6);
  });

  it("changes one's own password with --clear-tokens all: every token goes, the stored login too (Conch)", async () => {
    const user = await createUser(server, { userId: "changer", password });
    const configHome = home();
    await logIn(configHome, "changer");
    const res = await asUser(
      configHome,
      ["users", "update-password", "--old-password-stdin", "--new-password-stdin", "--clear-tokens", "all"],
      `${password}\nan entirely new secret 8\n`,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.json(), { login_tokens_revoked: "1", api_keys_revoked: "1" });
    assert.match(res.stderr, /note: the login tokens were revoked, this one too: roster login logs in again/);
    assert.throws(() => statSync(loginsFile(configHome)));
    assert.equal((await roster(["users", "current"], { server, key: user.key })).code, 6);
    const old = await asUser(configHome, ["login", "changer", "--password-stdin"], `${password}\n`);
    assert.equal(old.code, 6);
    await logIn(configHome, "changer", "an entirely new secret 8");
  });

  it("changes the password on a terminal: the old one once, the new one twice, none echoed", async () => {
    await createUser(server, { userId: "prompted", password });
    const configHome = home();
    await logIn(configHome, "prompted");
    const res = await rosterInTerminal(
      ["users", "update-password", "--clear-tokens", "none"],
      [
        { expect: "Current password: ", send: `${password}\r` },
        { expect: "New password: ", send: "typed anew on a tty 5\r" },
        { expect: "Confirm new password: ", send: "typed anew on a tty 5\r" },
      ],
      { server, key: null, configHome },
    );
    assert.equal(res.code, 0, res.screen);
    assert.ok(!res.screen.includes("typed anew") && !res.screen.includes(password), res.screen);
    // NONE kept the login: it still works.
    assert.equal((await asUser(configHome, ["users", "current"])).code, 0);
    await logIn(home(), "prompted", "typed anew on a tty 5");
  });

  it("resets a password as an admin: the user logs in with the temporary one and must change it first (Conch)", async () => {
    await createUser(server, { userId: "forgetful", password });
    const reset = await asAdmin([
      "users",
      "reset-password",
      "forgetful",
      "--clear-tokens",
      "login-only",
      "--send-email=false",
    ]);
    assert.equal(reset.code, 0, reset.stderr);
    const temporary = reset.json().temporary_password;
    assert.ok(temporary.length >= 12, temporary);

    const configHome = home();
    const login = await logIn(configHome, "forgetful", temporary);
    assert.equal(login.json().password_update_required, true);
    assert.match(login.stderr, /note: the password must be changed before anything else: roster users update-password/);
    assert.equal((await asUser(configHome, ["users", "current"])).code, 6, "the token only changes the password");
    const changed = await asUser(
      configHome,
      ["users", "update-password", "--old-password-stdin", "--new-password-stdin", "--clear-tokens", "none"],
      `${temporary}\nchosen by forgetful 3\n`,
    );
    assert.equal(changed.code, 0, changed.stderr);
    const fresh = home();
    await logIn(fresh, "forgetful", "chosen by forgetful 3");
    assert.equal((await asUser(fresh, ["users", "current"])).code, 0);
  });

  it("takes the help of login and logout from the comments of their RPCs, plus what the CLI keeps", async () => {
    const top = await roster(["--help"]);
    assert.match(
      top.stdout,
      /^ +roster login \[user-id-or-email\] +Exchange a user id or email address and a password/m,
    );
    assert.match(top.stdout, /^ +roster logout +Revoke the login token the call is made with/m);
    const help = (await roster(["login", "--help"])).stdout.replace(/\s+/g, " ");
    assert.match(help, /Every failure \(unknown user, wrong password, no password, suspended, locked/);
    assert.match(help, /The token is kept, readable by you only, for this server/);
    assert.match(help, /--password-stdin read the password from stdin instead of prompting on the terminal/);
  });

  it("refuses a reset by a user who is not an admin, with exit code 6", async () => {
    const configHome = home();
    await logIn(configHome, "arvados-user");
    const res = await asUser(configHome, ["users", "reset-password", "forgetful"]);
    assert.equal(res.code, 6);
    assert.match(res.stderr, /PERMISSION_DENIED/);
  });
});
