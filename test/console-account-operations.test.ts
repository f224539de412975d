import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { roster } from "./support/cli.js";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import {
  type ConsoleBrowser,
  checkPage,
  chromiumMissing,
  openConsoleBrowser,
  signedIn,
  skipWithoutChromium,
  visit,
} from "./support/console-browser.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * Account operations in the console (rename, merge, revoke tokens, token
 * requests), the invitations of every status, search by email and the
 * built-in user, in a real Chromium against a real server; each outcome is
 * read back with the `roster` CLI.
 */

const operatorPassword = "operator passphrase for the console";
const askerPassword = "asker passphrase for the console";
const revokeePassword = "revokee passphrase for the console";

describe("the console's account operations", () => {
  let server: TestServer;
  let browser: ConsoleBrowser;
  let users: GrpcClient;
  let access: GrpcClient;
  let invitations: GrpcClient;
  let renamee: TestUser;
  let revokee: TestUser;
  const cli = (args: string[], key?: string) => roster(args, { server, key });

  before(async () => {
    if (chromiumMissing) return;
    server = await startServer();
    browser = await openConsoleBrowser("console-account-operations");
    users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    access = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
    invitations = grpcClient(server, "roster.v1.InvitationRegistry", server.adminKey);
    const settings = grpcClient(server, "roster.v1.UserSettings", server.adminKey);
    await createUser(server, { userId: "operator", name: "Olive Operator", admin: true, password: operatorPassword });
    await createUser(server, { userId: "asker", name: "Ash Asker", password: askerPassword });
    renamee = await createUser(server, { userId: "renamee", name: "Rene Renamee" });
    revokee = await createUser(server, { userId: "revokee", name: "Reva Revokee", password: revokeePassword });
    await createUser(server, { userId: "old-account", name: "Old Account" });
    await createUser(server, { userId: "new-account", name: "New Account" });
    await users.call("Update", {
      user: { user_id: "old-account", attributes: { lab: "north" } },
      update_mask: { paths: ["attributes"] },
    });
    await settings.call("Set", { user_id: "old-account", key: "theme", value: { stringValue: "dark" } });
    settings.close();
    await users.call("Create", {
      user: { user_id: "searchable", name: "Sam Searchable", primary_email_address: "s.person@mailhost.example" },
    });
  });

  after(async () => {
    if (chromiumMissing) return;
    await browser?.close();
    for (const c of [users, access, invitations]) c?.close();
    await server?.stop();
    console.log(`# console screenshots: ${browser?.shots}`);
    assert.deepEqual(browser?.problems ?? [], [], "no browser console errors");
  });

  async function openUser(page: Page, userId: string) {
    await visit(page, server, `#/users/${userId}`);
    await page.getByRole("heading", { name: "Details" }).waitFor();
  }

  it("renames a user, with errors next to the new id, and opens the renamed user; their key still works", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await openUser(page, "renamee");
    await page.getByRole("button", { name: "Rename…" }).click();
    const dialog = page.getByRole("dialog", { name: "Rename renamee?" });
    const newId = dialog.getByLabel("New user ID");
    await newId.fill("Not Valid");
    await dialog.getByRole("button", { name: "Rename user" }).click();
    assert.equal(await newId.getAttribute("aria-invalid"), "true");
    await newId.fill("operator");
    await dialog.getByRole("button", { name: "Rename user" }).click();
    await dialog.getByRole("alert").waitFor();
    assert.match((await dialog.locator(".field-error").textContent()) ?? "", /operator/);
    assert.match((await dialog.getByRole("alert").textContent()) ?? "", /reason USER_ID_TAKEN/);
    await checkPage(browser, page, "rename-dialog");

    await newId.fill("renamed-one");
    await dialog.getByRole("button", { name: "Rename user" }).click();
    await page.getByText("Renamed renamee to renamed-one.").waitFor();
    await page.getByRole("heading", { name: "Rene Renamee", level: 1 }).waitFor();
    assert.match(page.url(), /#\/users\/renamed-one$/);
    assert.equal((await cli(["users", "get", "renamee"])).code, 4);
    assert.equal((await cli(["users", "get", "renamed-one", "--all"])).json().name, "Rene Renamee");
    assert.equal((await cli(["users", "current"], renamee.key)).json().user_id, "renamed-one");
  });

  it("merges a user into another: attributes and settings move and the old user is gone", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await openUser(page, "old-account");
    await page.getByRole("button", { name: "Merge…" }).click();
    const dialog = page.getByRole("dialog", { name: "Merge old-account into another user?" });
    await dialog.getByLabel("Merge into (user ID)").fill("new-account");
    await dialog.getByLabel("API keys of old-account").selectOption({ label: "Revoke them" });
    await checkPage(browser, page, "merge-dialog");
    await dialog.getByRole("button", { name: "Merge users" }).click();
    await page.getByText("Merged old-account into new-account.").waitFor();
    await page.getByRole("heading", { name: "New Account", level: 1 }).waitFor();

    assert.equal((await cli(["users", "get", "old-account"])).code, 4);
    assert.deepEqual((await cli(["users", "get", "new-account", "--all"])).json().attributes, { lab: "north" });
    assert.deepEqual((await cli(["users", "settings", "get", "new-account", "theme"])).json().value, "dark");
    await page.getByText("lab: north").waitFor();
  });

  it("revokes login tokens and API keys by kind", async (t) => {
    if (skipWithoutChromium(t)) return;
    const login = await access.call("Authenticate", { user_id_or_email: "revokee", password: revokeePassword });
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await openUser(page, "revokee");
    await page.getByRole("button", { name: "Revoke tokens…" }).click();
    let dialog = page.getByRole("dialog", { name: "Revoke the tokens of revokee?" });
    await dialog.getByLabel("Which tokens").selectOption({ label: "Login tokens (signs them out everywhere)" });
    await dialog.getByLabel("Email the user about it").uncheck();
    await checkPage(browser, page, "revoke-dialog");
    await dialog.getByRole("button", { name: "Revoke tokens" }).click();
    await page.getByText("Revoked 1 login tokens and 0 API keys of revokee.").waitFor();
    await rejectsWith(access.call("ListRights", {}, { key: login.token }), grpc.status.UNAUTHENTICATED);
    assert.equal((await cli(["users", "current"], revokee.key)).code, 0, "API keys were kept");

    await page.getByRole("button", { name: "Revoke tokens…" }).click();
    dialog = page.getByRole("dialog", { name: "Revoke the tokens of revokee?" });
    await dialog.getByLabel("Which tokens").selectOption({ label: "API keys" });
    await dialog.getByRole("button", { name: "Revoke tokens" }).click();
    await page.getByText("Revoked 0 login tokens and 1 API keys of revokee.").waitFor();
    assert.match((await cli(["users", "current"], revokee.key)).stderr, /UNAUTHENTICATED/);
  });

  it("lets a user ask for a key and an admin grant or deny it; the granted key is retrieved once", async (t) => {
    if (skipWithoutChromium(t)) return;
    const asker = await signedIn(browser, server, "asker", askerPassword);
    await asker.getByRole("link", { name: "Token requests" }).click();
    await asker.getByRole("heading", { name: "Token requests", level: 1 }).waitFor();
    for (const [name, reason] of [
      ["notebook", "for my notebook"],
      ["spare", "just in case"],
    ]) {
      await asker.getByLabel("Name for the key").fill(name);
      await asker.getByLabel("Read the account (user_info)").check();
      await asker.getByLabel("Why you need it").fill(reason);
      await asker.getByRole("button", { name: "Send request" }).click();
      await asker.getByText(/^Sent the request tr\w+; an administrator will grant or deny it\.$/).waitFor();
      await asker.getByRole("row", { name: new RegExp(name) }).waitFor();
    }
    await checkPage(browser, asker, "token-requests-user");

    const page = await signedIn(browser, server, "operator", operatorPassword);
    await visit(page, server, "#/token-requests");
    const notebook = page.getByRole("row", { name: /notebook/ });
    await notebook.getByRole("button", { name: /^Grant the request tr\w+ of asker$/ }).click();
    const grant = page.getByRole("dialog", { name: "Grant the request of asker?" });
    await grant.getByLabel("Note for the requester").fill("approved");
    await grant.getByRole("button", { name: "Grant request" }).click();
    await page.getByText(/^Granted the request tr\w+ of asker\.$/).waitFor();
    const spare = page.getByRole("row", { name: /spare/ });
    await spare.getByRole("button", { name: /^Deny the request/ }).click();
    const deny = page.getByRole("dialog", { name: "Deny the request of asker?" });
    await deny.getByLabel("Why (shown to the requester)").fill("not needed");
    await deny.getByRole("button", { name: "Deny request" }).click();
    await page.getByText(/^Denied the request tr\w+ of asker\.$/).waitFor();
    await page.getByLabel("Status").selectOption({ label: "Denied" });
    await page.locator(".summary").filter({ hasText: "1 token request." }).waitFor();
    assert.deepEqual(await page.locator("tbody td:nth-child(3)").allTextContents(), ["spare"]);
    await checkPage(browser, page, "token-requests-admin");

    const listed = (await cli(["users", "token-requests", "list", "--all-users"])).json();
    const status = Object.fromEntries(listed.map((r: { name: string; status: string }) => [r.name, r.status]));
    assert.deepEqual(status, { notebook: "TOKEN_REQUEST_STATUS_GRANTED", spare: "TOKEN_REQUEST_STATUS_DENIED" });

    await asker.reload();
    await asker.getByRole("button", { name: /^Retrieve the key of request/ }).click();
    const secret = (await asker.locator(".secret-value").textContent()) ?? "";
    assert.match(secret, /^rst_ak_\w+$/);
    assert.equal((await cli(["users", "current"], secret)).json().user_id, "asker");
    await asker
      .getByRole("row", { name: /notebook/ })
      .getByText("Retrieved")
      .waitFor();
    assert.equal(await asker.getByRole("button", { name: /^Retrieve the key/ }).count(), 0, "once");

    // The user revokes their own API keys from their page; their login session goes on.
    await asker.getByRole("link", { name: "My account" }).click();
    await asker.getByRole("button", { name: "Revoke my tokens…" }).click();
    const own = asker.getByRole("dialog", { name: "Revoke your tokens?" });
    assert.equal(await own.getByLabel("Email the user about it").count(), 0);
    await own.getByLabel("Which tokens").selectOption({ label: "API keys" });
    await own.getByRole("button", { name: "Revoke tokens" }).click();
    // The retrieved key and the one the fixture made.
    await asker.getByText("Revoked 0 login tokens and 2 API keys of asker.").waitFor();
    assert.match((await cli(["users", "current"], secret)).stderr, /UNAUTHENTICATED/);
    await asker.getByRole("heading", { name: "Ash Asker", level: 1 }).waitFor();
  });

  it("lists invitations of every status by default, as the CLI does, and filters them by status", async (t) => {
    if (skipWithoutChromium(t)) return;
    await invitations.call("Send", { email: "pending@example.com" });
    await invitations.call("Send", { email: "revoked@example.com" });
    await invitations.call("Delete", { email: "revoked@example.com" });
    const accepted = await invitations.call("Send", { email: "accepted@example.com" });
    const anonymous = grpcClient(server, "roster.v1.UserRegistry");
    await anonymous.call("Create", {
      user: { user_id: "accepted" },
      invitation_token: accepted.token,
      password: "accepted's own passphrase",
    });
    anonymous.close();
    await invitations.call("Send", { email: "expired@example.com", expires_in: { seconds: 1 } });
    await new Promise((r) => setTimeout(r, 1500));

    const fromCli = (await cli(["users", "invitations", "list"])).json();
    assert.equal(fromCli.length, 4);
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await visit(page, server, "#/invitations");
    assert.equal(await page.getByLabel("Status").inputValue(), "0", "any status");
    await page.locator(".summary").filter({ hasText: "4 invitations." }).waitFor();
    assert.deepEqual(
      (await page.locator("tbody th").allTextContents()).sort(),
      fromCli.map((i: { email: string }) => i.email).sort(),
    );
    await checkPage(browser, page, "invitations");
    for (const status of ["Pending", "Accepted", "Expired", "Revoked"]) {
      await page.getByLabel("Status").selectOption({ label: status });
      await page.locator("tbody th", { hasText: `${status.toLowerCase()}@example.com` }).waitFor();
      await page.locator(".summary").filter({ hasText: "1 invitation." }).waitFor();
      assert.deepEqual(await page.locator("tbody th").allTextContents(), [`${status.toLowerCase()}@example.com`]);
    }
  });

  it("searches users by part of their email address, as the CLI's search does", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await page.getByRole("searchbox", { name: "Email address contains" }).fill("MAILHOST.example");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.locator(".summary").filter({ hasText: "Users 1–1 of 1." }).waitFor();
    assert.deepEqual(await page.locator("tbody th").allTextContents(), ["searchable"]);
    const found = (await cli(["users", "search", "--email-contains", "MAILHOST.example"])).json();
    assert.deepEqual(
      found.map((u: { user_id: string }) => u.user_id),
      ["searchable"],
    );
    await checkPage(browser, page, "users-search-email");
    await page.getByRole("searchbox", { name: "Email address contains" }).fill("");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page
      .locator(".summary")
      .filter({ hasText: /^Users 1–\d+ of \d+\.$/ })
      .waitFor();
  });

  it("marks the built-in system user, lists it only when asked, and offers no change to it", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn(browser, server, "operator", operatorPassword);
    await page
      .locator(".summary")
      .filter({ hasText: /^Users 1–/ })
      .waitFor();
    assert.ok(!(await page.locator("tbody th").allTextContents()).some((id) => id.startsWith("system")));
    await page.getByLabel("Built-in users").check();
    const row = page.getByRole("row", { name: /system/ });
    await row.getByText("Built-in").waitFor();
    const listed = (await cli(["users", "list", "--include-system"])).json();
    assert.ok(listed.some((u: { user_id: string }) => u.user_id === "system"));
    assert.ok(!(await cli(["users", "list"])).json().some((u: { user_id: string }) => u.user_id === "system"));

    await row.getByRole("link", { name: "system" }).click();
    await page.getByText("This is Roster's built-in system user").waitFor();
    await page.getByRole("heading", { name: "Details" }).waitFor();
    assert.equal(await page.getByText("system (built-in)").count(), 1);
    for (const control of ["Save changes", "Rename…", "Merge…", "Delete…", "Revoke tokens…"]) {
      assert.equal(await page.getByRole("button", { name: control }).count(), 0, `no ${control}`);
    }
    assert.equal(await page.getByRole("navigation", { name: "Pages of system" }).count(), 0, "no keys or settings");
    await checkPage(browser, page, "system-user");
    const refused = await cli(["users", "update", "system", "--name", "Changed"]);
    assert.match(refused.stderr, /SYSTEM_USER/, "the server refuses it too");
  });
});
