import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { simpleParser } from "mailparser";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import {
  type ConsoleBrowser,
  checkPage,
  chromiumMissing,
  openConsoleBrowser,
  screenshots,
  signedIn,
  skipWithoutChromium,
  tabTo,
  visit,
} from "./support/console-browser.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";
import { recipients } from "./support/smtp.js";

/**
 * The console's pages for creating users and for a user's credentials and
 * data (API keys, attributes, settings), in a real Chromium against a real
 * server; every change is then read back with the `roster` CLI.
 */

const operatorPassword = "operator passphrase for the console";
const memberPassword = "member passphrase for the console";

/** A datetime-local value `days` from now, and the instant it means in this process's time zone. */
function inDays(days: number): { value: string; at: Date } {
  const at = new Date(Date.now() + days * 86_400_000);
  at.setSeconds(0, 0);
  const pad = (n: number) => String(n).padStart(2, "0");
  const value = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
  return { value, at };
}

describe("the console's users, API keys, attributes and settings", () => {
  let server: TestServer;
  let browser: ConsoleBrowser;
  const cli = (args: string[], key?: string) => roster(args, { server, key });

  before(async () => {
    if (chromiumMissing) return;
    server = await startServer();
    browser = await openConsoleBrowser("console-credentials");
    await createUser(server, { userId: "operator", name: "Olive Operator", admin: true, password: operatorPassword });
    await createUser(server, { userId: "plain-member", name: "Pat Member", password: memberPassword });
  });

  after(async () => {
    if (chromiumMissing) return;
    await browser?.close();
    await server?.stop();
    // Printed for whoever wants to look at the pages.
    console.log(`# console screenshots: ${browser?.shots}`);
    assert.deepEqual(browser?.problems ?? [], [], "no browser console errors");
  });

  async function mailTo(address: string): Promise<string> {
    const outbox = join(server.dataDir, "outbox");
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      let files: string[] = [];
      try {
        files = readdirSync(outbox).filter((n) => n.endsWith(".eml"));
      } catch {}
      for (const f of files) {
        const mail = await simpleParser(readFileSync(join(outbox, f)));
        if (recipients(mail).toLowerCase() === address.toLowerCase()) return mail.text ?? "";
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`no mail reached ${address}`);
  }

  it("creates a user with a temporary password by email and an API key shown once, as the CLI then sees", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await page.getByRole("link", { name: "New user" }).click();
    await page.getByRole("heading", { name: "New user", level: 1 }).waitFor();
    await checkPage(browser, page, "new-user");

    await page.getByLabel("Email address").fill("Newbie@Example.com");
    await page.getByLabel("User ID").fill("newbie");
    await page.getByLabel("Name", { exact: true }).fill("Nell Newbie");
    await page.getByLabel("Email them a temporary password").check();
    await page.getByLabel("Also create an API key with every user right (shown once)").check();
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText("Created newbie; a temporary password is on its way by email.").waitFor();
    const key = (await page.locator(".secret-value").textContent()) ?? "";
    assert.match(key, /^rst_ak_\w+$/);

    const got = await cli(["users", "get", "newbie", "--all"]);
    assert.equal(got.code, 0, got.stderr);
    const user = got.json();
    assert.equal(user.name, "Nell Newbie");
    assert.equal(user.primary_email_address, "Newbie@Example.com");
    assert.equal(user.require_password_update, true, "a temporary password must be changed");
    assert.equal(user.created_by, "operator");
    const current = await cli(["users", "current"], key);
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.json().user_id, "newbie", "the key shown acts as the new user");
    assert.match(await mailTo("Newbie@Example.com"), /password/i);

    await page.reload();
    await page.getByRole("heading", { name: "New user", level: 1 }).waitFor();
    assert.equal(await page.locator(".secret-value").count(), 0, "the key is shown once");
    assert.ok(!(await page.content()).includes(key));
  });

  it("shows a taken user id and a malformed one next to the User ID field", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await visit(page, server, "#/new-user");
    const userId = page.getByLabel("User ID");
    await page.getByLabel("Email address").fill("another@example.com");
    await userId.fill("Not An Id");
    await page.getByRole("button", { name: "Create user" }).click();
    assert.equal(await userId.getAttribute("aria-invalid"), "true");
    const described = (await userId.getAttribute("aria-describedby")) ?? "";
    const error = page.locator(`[id="${described.split(" ").at(-1)}"]`);
    assert.equal(await error.textContent(), "2 to 36 lower-case letters and digits, with single dashes between them.");
    assert.equal(await page.evaluate(`document.activeElement.getAttribute("name")`), "user-id");

    await userId.fill("plain-member");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByRole("alert").waitFor();
    const next = page.locator(".field", { has: userId }).locator(".field-error");
    assert.match((await next.textContent()) ?? "", /plain-member/);
    assert.match((await page.getByRole("alert").textContent()) ?? "", /^ALREADY_EXISTS: .*\(reason USER_ID_TAKEN\)$/);
    assert.equal((await cli(["users", "get", "another@example.com"])).code, 4, "nothing was created");
    await screenshots(browser, page, "new-user-errors");

    // The profile form too: an address taken by another user, under the email field.
    await visit(page, server, "#/users/newbie");
    const email = page.getByLabel("Email address", { exact: true });
    await email.fill("plain-member@example.com");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("alert").filter({ hasText: "reason EMAIL_TAKEN" }).waitFor();
    assert.equal(await email.getAttribute("aria-invalid"), "true");
    assert.match(
      (await page.locator(".field", { has: email }).locator(".field-error").textContent()) ?? "",
      /plain-member@example\.com/,
    );
  });

  it("sets an attribute and a setting, and creates and expires an API key, as the CLI then sees", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await visit(page, server, "#/users/newbie");
    await page.getByRole("heading", { name: "Nell Newbie", level: 1 }).waitFor();

    await page.getByRole("button", { name: "Add attribute" }).click();
    await page.locator(".attribute-key").last().fill("team");
    await page.locator(".attribute-value").last().fill("blue");
    await page.getByRole("button", { name: "Save attributes" }).click();
    await page.getByText("Saved the attributes.").waitFor();
    assert.deepEqual((await cli(["users", "get", "newbie", "--all"])).json().attributes, { team: "blue" });
    await page.getByRole("button", { name: "Add attribute" }).click();
    await page.locator(".attribute-key").last().fill("room");
    await page.locator(".attribute-value").last().fill("3.14");
    await page.getByRole("button", { name: "Remove the attribute team" }).click();
    await page.getByRole("button", { name: "Save attributes" }).click();
    await page.getByText("Saved the attributes.").waitFor();
    assert.deepEqual((await cli(["users", "get", "newbie", "--all"])).json().attributes, { room: "3.14" });
    await checkPage(browser, page, "user");

    await page.getByRole("navigation", { name: "Pages of newbie" }).getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings of newbie", level: 1 }).waitFor();
    await page.getByLabel("Key", { exact: true }).fill("editor");
    await page.getByLabel("Value (JSON)").fill('{"keymap": "vim", "tabs": [2, 4]}');
    await page.getByRole("button", { name: "Set setting" }).click();
    await page.getByText("Set editor.").waitFor();
    const setting = await cli(["users", "settings", "get", "newbie", "editor"]);
    assert.equal(setting.code, 0, setting.stderr);
    assert.deepEqual(setting.json().value, { keymap: "vim", tabs: [2, 4] });
    await page.getByRole("row", { name: /editor/ }).waitFor();
    await checkPage(browser, page, "settings");

    await page.getByRole("navigation", { name: "Pages of newbie" }).getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys of newbie", level: 1 }).waitFor();
    const expiry = inDays(30);
    await page.getByLabel("Name", { exact: true }).fill("ci deploy");
    await page.getByLabel("Read the account (user_info)").check();
    await page.getByLabel("Expires at").fill(expiry.value);
    await page.getByRole("button", { name: "Create API key" }).click();
    await page.getByText(/^Created the API key ci deploy \(ak\w+\)\.$/).waitFor();
    const secret = (await page.locator(".secret-value").textContent()) ?? "";
    assert.match(secret, /^rst_ak_\w+$/);
    const row = page.getByRole("row", { name: /ci deploy/ });
    await row.waitFor();
    assert.equal(await row.getByRole("cell").nth(5).textContent(), "Active");
    assert.equal(await row.getByRole("cell").nth(4).textContent(), "Never", "not used yet");

    const key = (await cli(["users", "api-keys", "get", "newbie", "ci deploy"])).json();
    assert.deepEqual(key.rights, ["RIGHT_USER_INFO"]);
    assert.equal(key.created_by, "operator");
    assert.equal(new Date(key.expires_at).getTime(), expiry.at.getTime(), "expires when the form said, in local time");
    const used = await cli(["users", "current"], secret);
    assert.equal(used.code, 0, used.stderr);
    assert.equal(used.json().user_id, "newbie");

    await page.reload();
    await row.waitFor();
    assert.equal(await page.locator(".secret-value").count(), 0, "the secret is shown once");
    assert.notEqual(await row.getByRole("cell").nth(4).textContent(), "Never", "the list shows the last use");
    await checkPage(browser, page, "api-keys");

    await row.getByRole("button", { name: "Edit the API key ci deploy" }).click();
    const edit = page.getByRole("dialog", { name: "Change the API key ci deploy?" });
    assert.equal(await edit.getByLabel("Expires at").inputValue(), expiry.value, "the form shows the key as it is");
    await edit.getByLabel("Change the profile and settings (user_settings)").check();
    await edit.getByLabel("Expires at").fill("");
    await edit.getByRole("button", { name: "Save API key" }).click();
    await page.getByText("Changed the API key ci deploy: rights, expires_at.").waitFor();
    const changed = (await cli(["users", "api-keys", "get", "newbie", "ci deploy"])).json();
    assert.deepEqual(changed.rights, ["RIGHT_USER_INFO", "RIGHT_USER_SETTINGS"]);
    assert.equal(changed.expires_at, undefined, "never expires now");

    await row.getByRole("button", { name: "Expire the API key ci deploy" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Expire API key" }).click();
    await page.getByText("The API key ci deploy expired.").waitFor();
    await row.getByRole("cell", { name: "Expired", exact: true }).waitFor();
    assert.equal((await cli(["users", "api-keys", "get", "newbie", "ci deploy"])).json().expired, true);
    const refused = await cli(["users", "current"], secret);
    assert.notEqual(refused.code, 0, "an expired key no longer works");
    assert.match(refused.stderr, /UNAUTHENTICATED/);

    await row.getByRole("button", { name: "Delete the API key ci deploy" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete API key" }).click();
    await page.getByText("Deleted the API key ci deploy.").waitFor();
    const names = (await cli(["users", "api-keys", "list", "newbie"])).json().map((k: { name: string }) => k.name);
    assert.deepEqual(names, ["initial"]);
  });

  it("replaces and deletes settings, and shows a value that is not JSON next to its field", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await visit(page, server, "#/users/newbie/settings");
    await page.getByLabel("Key", { exact: true }).fill("theme");
    const value = page.getByLabel("Value (JSON)");
    await value.fill("dark");
    await page.getByRole("button", { name: "Set setting" }).click();
    assert.equal(await value.getAttribute("aria-invalid"), "true");
    assert.match(
      (await page.locator(".field", { has: value }).locator(".field-error").textContent()) ?? "",
      /not JSON/,
    );
    assert.equal((await cli(["users", "settings", "get", "newbie", "theme"])).code, 4, "nothing was set");

    await page.getByLabel("Key", { exact: true }).fill("bad key!");
    await value.fill('"dark"');
    await page.getByRole("button", { name: "Set setting" }).click();
    assert.equal(await page.getByLabel("Key", { exact: true }).getAttribute("aria-invalid"), "true");
    assert.equal(await value.getAttribute("aria-invalid"), null, "the value is fine now");

    const all = page.getByLabel("All settings (a JSON object)");
    await all.fill('{"theme": "light", "size": 12}');
    await page.getByRole("button", { name: "Replace all settings" }).click();
    await page.getByText("Replaced all settings.").waitFor();
    assert.deepEqual((await cli(["users", "settings", "get", "newbie"])).json().settings, { size: 12, theme: "light" });

    // Changed elsewhere meanwhile: the replace is refused against the etag the page read.
    assert.equal((await cli(["users", "settings", "set", "newbie", "size", "14"])).code, 0);
    await all.fill("{}");
    await page.getByRole("button", { name: "Replace all settings" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /^ABORTED: / })
      .waitFor();
    assert.deepEqual((await cli(["users", "settings", "get", "newbie"])).json().settings, { size: 14, theme: "light" });

    await page.reload();
    await page.getByRole("row", { name: /theme/ }).getByRole("button", { name: "Delete the setting theme" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete setting" }).click();
    await page.getByText("Deleted theme.").waitFor();
    assert.deepEqual((await cli(["users", "settings", "get", "newbie"])).json().settings, { size: 14 });
  });

  it("lets a non-admin manage their own API keys, settings and password, by keyboard alone", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "plain-member", memberPassword);
    await page.getByRole("heading", { name: "Pat Member", level: 1 }).waitFor();
    assert.deepEqual(await page.locator(".nav-links a").allTextContents(), [
      "My account",
      "Token requests",
      "Change password",
    ]);
    await tabTo(page, "API keys");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "API keys of plain-member", level: 1 }).waitFor();
    assert.equal(await page.getByLabel(/^Admin:/).count(), 0, "no admin rights are offered");

    await tabTo(page, "Name");
    const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
    assert.notEqual(outline, "none", "the focused control shows it");
    await page.keyboard.type("laptop");
    await tabTo(page, "Change the profile and settings (user_settings)");
    await page.keyboard.press("Space");
    await tabTo(page, "Create API key");
    await page.keyboard.press("Enter");
    const secret = (await page.locator(".secret-value").textContent({ timeout: 10_000 })) ?? "";
    assert.match(secret, /^rst_ak_\w+$/);
    const key = (await cli(["users", "api-keys", "get", "plain-member", "laptop"])).json();
    assert.deepEqual(key.rights, ["RIGHT_USER_SETTINGS"]);
    assert.equal(key.created_by, "plain-member");

    await visit(page, server, "#/users/plain-member/settings");
    await tabTo(page, "Key");
    await page.keyboard.type("language");
    await page.keyboard.press("Tab");
    await page.keyboard.type('"de"');
    await tabTo(page, "Set setting");
    await page.keyboard.press("Enter");
    await page.getByText("Set language.").waitFor();
    const mine = await cli(["users", "settings", "get", "plain-member", "language"]);
    assert.equal(mine.code, 0, mine.stderr);
    assert.deepEqual(mine.json(), { key: "language", value: "de" });

    // Somebody else's keys and settings are not theirs to see.
    await visit(page, server, "#/users/operator/api-keys");
    await page.getByText("Managing these API keys needs the right RIGHT_ADMIN_USERS_READ").waitFor();
    await visit(page, server, "#/users/operator/settings");
    await page.getByText("Reading these settings needs the right RIGHT_ADMIN_USERS_READ").waitFor();

    await visit(page, server, "#/password");
    const currentPassword = page.getByLabel("Current password");
    await currentPassword.fill("not my password at all");
    await page.getByLabel("New password", { exact: true }).fill("pat's brand new passphrase");
    await page.getByLabel("Repeat the new password").fill("pat's other passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    const repeatError = page
      .locator(".field", { has: page.getByLabel("Repeat the new password") })
      .locator(".field-error");
    assert.equal(await repeatError.textContent(), "The two new passwords differ.");
    await page.getByLabel("Repeat the new password").fill("pat's brand new passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("alert").filter({ hasText: "reason INCORRECT_PASSWORD" }).waitFor();
    assert.equal(await currentPassword.getAttribute("aria-invalid"), "true");
    assert.equal(await repeatError.count(), 0, "the earlier error is gone");
    await screenshots(browser, page, "password-errors");
    await currentPassword.fill(memberPassword);
    await page.getByLabel("New password", { exact: true }).fill("pat's brand new passphrase");
    await page.getByLabel("Repeat the new password").fill("pat's brand new passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Your password was changed.").waitFor();
    const access = grpcClient(server, "roster.v1.UserAccess");
    try {
      await access.call("Authenticate", { user_id_or_email: "plain-member", password: "pat's brand new passphrase" });
    } finally {
      access.close();
    }
  });
});
