import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { type GrpcClient, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { chromiumArgs, chromiumMissing, chromiumPath, skipWithoutChromium } from "./support/console-browser.js";
import { createUser } from "./support/fixtures.js";
import { logLines, startServer, type TestServer } from "./support/server.js";

/**
 * The web console in a real Chromium (Debian's package, driven by
 * playwright-core), against a real server and database. Every change made
 * through the console is checked through the API afterwards.
 */

const { ABORTED, NOT_FOUND, UNAUTHENTICATED } = grpc.status;
const operatorPassword = "operator passphrase for the console";
const memberPassword = "member passphrase for the console";
const tokenKey = "roster-console-token";

describe("the web console", () => {
  let server: TestServer;
  let browser: BrowserContext;
  let profile: string;
  let users: GrpcClient;
  let access: GrpcClient;
  let invitations: GrpcClient;
  const problems: string[] = [];

  before(async () => {
    if (chromiumMissing) return;
    server = await startServer();
    profile = mkdtempSync(join(tmpdir(), "roster-console-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 900 },
    });
    users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    access = grpcClient(server, "roster.v1.UserAccess", server.adminKey);
    invitations = grpcClient(server, "roster.v1.InvitationRegistry", server.adminKey);
    await createUser(server, { userId: "operator", name: "Olive Operator", admin: true, password: operatorPassword });
    await createUser(server, { userId: "plain-member", name: "Pat Member", password: memberPassword });
    for (let i = 1; i <= 12; i++) {
      const n = String(i).padStart(2, "0");
      await users.call("Create", {
        user: { user_id: `member-${n}`, name: `Member ${n}`, primary_email_address: `member-${n}@example.com` },
      });
    }
    await users.call("Create", {
      user: { user_id: "zebediah", name: "Zebediah Quill", primary_email_address: "zeb@example.com" },
    });
    await users.call("Create", {
      user: {
        user_id: "flagged-one",
        name: "Flagged One",
        primary_email_address: "flagged@example.com",
        state: "STATE_FLAGGED",
      },
    });
  });

  after(async () => {
    if (chromiumMissing) return;
    await browser?.close();
    for (const c of [users, access, invitations]) c?.close();
    await server?.stop();
    rmSync(profile, { recursive: true, force: true });
    assert.deepEqual(problems, [], "no browser console errors");
  });

  /** A new tab (its own sessionStorage, so its own session) signed in with a password. */
  async function signedIn(userId: string, password: string): Promise<Page> {
    const page = await browser.newPage();
    page.on("pageerror", (error) => problems.push(`the console threw: ${error.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    await page.goto(`${server.url}/console/`);
    await page.getByLabel("User ID or email address").fill(userId);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    return page;
  }

  /** Go to a page of the console by its fragment (`#/users/ada`). */
  async function visit(page: Page, fragment: string): Promise<void> {
    await page.goto(`${server.url}/console/${fragment}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
  }

  /** Wait until the summary line says `text`, then return the user ids of the table's rows. */
  async function rowsAfter(page: Page, text: string | RegExp): Promise<string[]> {
    await page.locator(".summary").filter({ hasText: text }).waitFor();
    await page.locator("table:not([aria-busy])").waitFor();
    return page.locator("tbody th").allTextContents();
  }

  async function openUser(page: Page, userId: string): Promise<void> {
    await visit(page, `#/users/${userId}`);
    await page.getByRole("heading", { name: "Details" }).waitFor();
  }

  async function saveAndWait(page: Page): Promise<Locator> {
    await page.getByRole("button", { name: "Save changes" }).click();
    const outcome = page.locator(".messages .notice, .messages .error").first();
    await outcome.waitFor();
    return outcome;
  }

  it("signs in with a password, pages through the users and takes a screenshot", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    const all = (await users.call("List", { limit: 1000, exact_total: true })) as {
      users: { user_id: string }[];
      total_size: string;
    };
    const total = Number(all.total_size);
    assert.ok(total > 10 && total <= 20, `the fixtures make between 11 and 20 users, not ${total}`);

    await page.getByLabel("Per page").selectOption("10");
    const first = await rowsAfter(page, `Users 1–10 of ${total}.`);
    assert.deepEqual(
      first,
      all.users.slice(0, 10).map((u) => u.user_id),
    );
    assert.equal(await page.locator(".pager span").textContent(), "Page 1 of 2");
    assert.equal(await page.getByRole("button", { name: "Previous page" }).isDisabled(), true);

    const shots = mkdtempSync(join(tmpdir(), "roster-console-screenshots-"));
    const shot = join(shots, "users.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, "a screenshot of the users page");
    t.diagnostic(`screenshot: ${shot}`);
    if (!process.env.ROSTER_KEEP_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });

    await page.getByRole("button", { name: "Next page" }).click();
    const second = await rowsAfter(page, `Users 11–${total} of ${total}.`);
    assert.deepEqual(
      second,
      all.users.slice(10).map((u) => u.user_id),
    );
    assert.equal(await page.getByRole("button", { name: "Next page" }).isDisabled(), true);

    await page.getByRole("button", { name: "Previous page" }).click();
    assert.deepEqual(await rowsAfter(page, `Users 1–10 of ${total}.`), first);

    const table = page.getByRole("table");
    const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: "member-01", exact: true }) });
    assert.deepEqual(await row.getByRole("cell").allTextContents(), [
      "Member 01",
      "member-01@example.com",
      "Approved",
      "No",
    ]);
  });

  it("searches users by text and filters them by state", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await page.getByRole("searchbox", { name: "Search ID, name or description" }).fill("zebediah q");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    assert.deepEqual(await rowsAfter(page, "Users 1–1 of 1."), ["zebediah"]);

    await page.getByRole("searchbox", { name: "Search ID, name or description" }).fill("");
    await page.getByLabel("State").selectOption("Flagged");
    assert.deepEqual(await rowsAfter(page, "Users 1–1 of 1."), ["flagged-one"]);

    await page.getByRole("searchbox", { name: "Search ID, name or description" }).fill("member");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await rowsAfter(page, "No users match.");
  });

  it("opens a user from the list and changes its name, as the API then shows", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await page.getByRole("link", { name: "member-02", exact: true }).click();
    await page.getByRole("heading", { name: "Member 02", level: 1 }).waitFor();
    const { user: read } = await users.call("Get", { user_id: "member-02" });
    await page.getByLabel("Name").fill("Member Two Renamed");
    const sent = page.waitForRequest((r) => r.url().endsWith("/roster.v1.UserRegistry/Update"));
    const outcome = await saveAndWait(page);
    assert.equal(await outcome.textContent(), "Saved: name.");
    // A gRPC-Web frame: a flag byte, a 4-byte length, then the JSON message.
    const body = JSON.parse((await sent).postDataBuffer()?.subarray(5).toString() ?? "{}");
    assert.equal(body.updateMask, "name", "the update mask names exactly the changed field");
    assert.equal(body.user.etag, read.etag, "with the etag that was read");
    await page.getByRole("heading", { name: "Member Two Renamed", level: 1 }).waitFor();

    const { user } = await users.call("Get", { user_id: "member-02" });
    assert.equal(user.name, "Member Two Renamed");
    assert.equal(user.updated_by, "operator", "changed with the operator's login token");
    const calls = await logLines(
      server,
      (l) => l.method === "roster.v1.UserRegistry/Update" && l.caller === "operator" && l.code === "ok",
    );
    assert.equal(calls[0]?.protocol, "application/grpc-web+json", "the browser speaks gRPC-Web with JSON");
  });

  it("lets an admin change a user's state with a description, and deactivate and set up a user", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await openUser(page, "member-03");
    await page.getByLabel("State", { exact: true }).selectOption("Suspended");
    await page.getByLabel("State description").fill("on leave until March");
    assert.equal(await (await saveAndWait(page)).textContent(), "Saved: state, state_description.");
    let { user } = await users.call("Get", { user_id: "member-03" });
    assert.equal(user.state, "STATE_SUSPENDED");
    assert.equal(user.state_description, "on leave until March");
    await page.getByText("Suspended: on leave until March").waitFor();

    await page.getByRole("button", { name: "Set up" }).click();
    await page.getByText("member-03 is set up (approved).").waitFor();
    ({ user } = await users.call("Get", { user_id: "member-03" }));
    assert.equal(user.state, "STATE_APPROVED");

    await page.getByRole("button", { name: "Deactivate…" }).click();
    const dialog = page.getByRole("dialog", { name: "Deactivate member-03?" });
    await dialog.getByLabel("Reason (shown to the user)").fill("left the team");
    await dialog.getByRole("button", { name: "Deactivate" }).click();
    await page.getByText(/member-03 is deactivated/).waitFor();
    ({ user } = await users.call("Get", { user_id: "member-03" }));
    assert.equal(user.state, "STATE_SUSPENDED");
    assert.equal(user.state_description, "left the team");
  });

  it("shows an edit against a stale etag as a conflict, and saves after a reload", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await openUser(page, "member-04");
    await users.call("Update", {
      user: { user_id: "member-04", name: "Changed Elsewhere" },
      update_mask: { paths: ["name"] },
    });

    await page.getByLabel("Description", { exact: true }).fill("written in the console");
    const outcome = await saveAndWait(page);
    const text = (await outcome.textContent()) ?? "";
    assert.match(text, /^ABORTED: /);
    assert.match(text, /changed meanwhile/);
    let { user } = await users.call("Get", { user_id: "member-04" });
    assert.equal(user.description, "", "the stale edit changed nothing");
    assert.equal(user.name, "Changed Elsewhere");
    await rejectsWith(
      users.call("Update", {
        user: { user_id: "member-04", description: "x", etag: "stale" },
        update_mask: { paths: ["description"] },
      }),
      ABORTED,
    );

    await outcome.getByRole("button", { name: "Reload" }).click();
    await page.getByRole("heading", { name: "Changed Elsewhere", level: 1 }).waitFor();
    assert.equal(await page.getByLabel("Name").inputValue(), "Changed Elsewhere");
    await page.getByLabel("Description", { exact: true }).fill("written in the console");
    assert.equal(await (await saveAndWait(page)).textContent(), "Saved: description.");
    ({ user } = await users.call("Get", { user_id: "member-04" }));
    assert.equal(user.description, "written in the console");
    assert.equal(user.name, "Changed Elsewhere");
  });

  it("sends an invitation, shows its token once, lists it, shows the server's error, and revokes it", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await page.getByRole("link", { name: "Invitations" }).click();
    await page.getByRole("heading", { name: "Invitations", level: 1 }).waitFor();
    await page.getByLabel("Email address").fill("Invitee@Example.com");
    await page.getByLabel("Expires in").fill("2");
    await page.getByLabel("Make the new user an administrator").check();
    await page.getByLabel("Email the invitation").uncheck();
    const sentAt = Date.now();
    await page.getByRole("button", { name: "Send invitation" }).click();

    const token = (await page.locator(".secret-value").textContent()) ?? "";
    assert.match(token, /^rst_iv_\w+$/);
    const row = page.getByRole("row").filter({ hasText: "invitee@example.com" });
    await row.waitFor();
    assert.deepEqual((await row.getByRole("cell").allTextContents()).slice(0, 1), ["Pending"]);
    assert.equal(await row.getByRole("cell").nth(5).textContent(), "Yes", "admin");

    const { invitation } = await invitations.call("Get", { email: "invitee@example.com" });
    assert.equal(invitation.status, "INVITATION_STATUS_PENDING");
    assert.equal(invitation.admin, true);
    assert.equal(invitation.created_by, "operator");
    const expires = Number(invitation.expires_at.seconds) * 1000;
    assert.ok(Math.abs(expires - (sentAt + 2 * 86_400_000)) < 60_000, "expires in two days");

    // The same address again: the server's message and ErrorInfo reason, as the API gives them.
    const refused = await rejectsWith(
      invitations.call("Send", { email: "invitee@example.com" }),
      grpc.status.ALREADY_EXISTS,
    );
    await page.getByLabel("Email address").fill("invitee@example.com");
    await page.getByRole("button", { name: "Send invitation" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.equal(await alert.textContent(), `ALREADY_EXISTS: ${refused.details} (reason ${refused.reason})`);

    await row.getByRole("button", { name: "Resend the invitation of invitee@example.com" }).click();
    await page.getByText("Sent the invitation of invitee@example.com again; its old token no longer works.").waitFor();
    const resent = (await page.locator(".secret-value").textContent()) ?? "";
    assert.match(resent, /^rst_iv_\w+$/);
    assert.notEqual(resent, token);

    await row.getByRole("button", { name: "Revoke the invitation of invitee@example.com" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke invitation" }).click();
    await page.getByText("Revoked the invitation of invitee@example.com.").waitFor();
    await row.getByRole("cell", { name: "Revoked" }).waitFor();
    const revoked = await invitations.call("Get", { email: "invitee@example.com" });
    assert.equal(revoked.invitation.status, "INVITATION_STATUS_REVOKED");
  });

  it("resets a password, shows the temporary one once, and makes its user choose a new one", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await openUser(page, "member-05");
    await page.getByRole("button", { name: "Reset password…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Reset password" }).click();
    const temporary = (await page.locator(".secret-value").textContent()) ?? "";
    assert.equal(temporary.length, 20);
    const login = await access.call("Authenticate", { user_id_or_email: "member-05", password: temporary });
    assert.equal(login.password_update_required, true);
    // The page reads the changed user again: its etag is current, so an edit right after saves.
    await page.locator(".details dd").filter({ hasText: /^Yes$/ }).waitFor();
    await page.getByLabel("Name").fill("Member Five");
    assert.equal(await (await saveAndWait(page)).textContent(), "Saved: name.");

    const member = await signedIn("member-05", temporary);
    await member.getByRole("heading", { name: "Change password", level: 1 }).waitFor();
    assert.deepEqual(await member.locator(".nav-links a").allTextContents(), ["Change password"]);
    await member.getByLabel("Temporary password").fill(temporary);
    await member.getByLabel("New password", { exact: true }).fill("member five's new passphrase");
    await member.getByLabel("Repeat the new password").fill("member five's new passphrase");
    await member.getByRole("button", { name: "Change password" }).click();
    await member.getByText("Your password was changed.").waitFor();
    await member.getByRole("heading", { name: "Member Five", level: 1 }).waitFor();
    const relogin = await access.call("Authenticate", {
      user_id_or_email: "member-05",
      password: "member five's new passphrase",
    });
    assert.equal(relogin.password_update_required, false);
  });

  it("deletes a user after confirmation, restores it, and purges it after its id is typed", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    await openUser(page, "member-06");
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await users.call("Get", { user_id: "member-06" });

    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete user" }).click();
    await page.getByText(/member-06 was deleted\. It can be restored until/).waitFor();
    await rejectsWith(users.call("Get", { user_id: "member-06" }), NOT_FOUND);

    await page.getByRole("button", { name: "Restore" }).click();
    await page.getByText("member-06 was restored.").waitFor();
    await page.getByRole("heading", { name: "Details" }).waitFor();
    await users.call("Get", { user_id: "member-06" });

    // Deleted again, it is listed among the deleted users, where it is purged.
    await users.call("Delete", { user_id: "member-06" });
    await visit(page, "#/users");
    await page.getByLabel("Deleted users").check();
    assert.ok((await rowsAfter(page, /\(deleted\)/)).includes("member-06"));
    await page.getByRole("button", { name: "Purge member-06" }).click();
    const dialog = page.getByRole("dialog", { name: "Purge member-06?" });
    const purge = dialog.getByRole("button", { name: "Purge user" });
    assert.equal(await purge.isDisabled(), true, "not before the id is typed");
    await dialog.getByLabel("Type member-06 to confirm").fill("member-06");
    await purge.click();
    await page.getByText("Purged member-06.").waitFor();
    await rejectsWith(users.call("Restore", { user_id: "member-06" }), NOT_FOUND);
  });

  it("shows who changed a user, when, and what, newest first, with older events on request", async (t) => {
    if (skipWithoutChromium(t)) return;
    for (let i = 1; i <= 11; i++) {
      await users.call("Update", {
        user: { user_id: "member-09", description: `note ${i}` },
        update_mask: { paths: ["description"] },
      });
    }
    const page = await signedIn("operator", operatorPassword);
    await openUser(page, "member-09");
    const history = page.getByRole("region", { name: "History" });
    await history.getByText("The 10 most recent events, newest first; older ones follow.").waitFor();
    const rows = history.locator("tbody tr");
    assert.equal(await rows.count(), 10);
    const cells = async (row: Locator) => [
      ...(await row.getByRole("rowheader").allTextContents()),
      ...(await row.getByRole("cell").allTextContents()).slice(1),
    ];
    const adminKey = (await access.call("ListRights", {})).token_id;
    assert.deepEqual(await cells(rows.first()), ["user.update", `admin (API key ${adminKey})`, "description"]);
    assert.match((await rows.first().locator("time").getAttribute("datetime")) ?? "", /^\d{4}-\d\d-\d\dT/);

    await history.getByRole("button", { name: "Show older events" }).click();
    await history.getByText("The 12 most recent events, newest first.").waitFor();
    assert.equal(await history.getByRole("button", { name: "Show older events" }).isHidden(), true);
    assert.deepEqual(await cells(rows.last()), ["user.create", `admin (API key ${adminKey})`, "—"]);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-event-id"))));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      "newest first",
    );

    // A change made on the page is at the top of the history at once, made by the signed-in operator.
    await page.getByLabel("Name").fill("Member Nine");
    assert.equal(await (await saveAndWait(page)).textContent(), "Saved: name.");
    await history.locator("tbody tr").first().filter({ hasText: "operator (signed in)" }).waitFor();
    assert.deepEqual(
      (await cells(rows.first())).filter((c) => c !== "operator (signed in)"),
      ["user.update", "name"],
    );
    await page.screenshot({ path: join(tmpdir(), "roster-console-history.png"), fullPage: true });

    // A member sees the history of their own account, not of others.
    const member = await signedIn("plain-member", memberPassword);
    await member.getByRole("heading", { name: "History" }).waitFor();
    await member.getByRole("region", { name: "History" }).locator("tbody tr").first().waitFor();
    await openUser(member, "operator");
    assert.equal(await member.getByRole("heading", { name: "History" }).count(), 0);
  });

  it("shows a non-admin only their own account and the public fields of others", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("plain-member", memberPassword);
    await page.getByRole("heading", { name: "Pat Member", level: 1 }).waitFor();
    assert.deepEqual(await page.locator(".nav-links a").allTextContents(), [
      "My account",
      "Token requests",
      "Change password",
    ]);
    await page.getByText("plain-member@example.com").waitFor();
    assert.equal(await page.getByRole("group", { name: "Administration" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Delete…" }).count(), 0);

    await page.getByLabel("Name").fill("Pat M. Member");
    assert.equal(await (await saveAndWait(page)).textContent(), "Saved: name.");
    const { user } = await users.call("Get", { user_id: "plain-member" });
    assert.equal(user.name, "Pat M. Member");

    await visit(page, "#/users");
    await page.getByText("Listing users needs the right RIGHT_ADMIN_USERS_READ").waitFor();
    assert.equal(await page.getByRole("table").count(), 0);
    await visit(page, "#/invitations");
    await page.getByText("Managing invitations needs the right RIGHT_ADMIN_INVITATIONS").waitFor();

    await openUser(page, "operator");
    await page.getByRole("heading", { name: "Olive Operator", level: 1 }).waitFor();
    const terms = await page.locator(".details dt").allTextContents();
    assert.deepEqual(terms, ["User ID", "Name", "Description", "Created", "Updated"]);
    assert.equal(await page.getByLabel("Name").count(), 0, "no form for somebody else");
  });

  it("signs in with an API key, and revokes a login token on sign-out", async (t) => {
    if (skipWithoutChromium(t)) return;
    const page = await signedIn("operator", operatorPassword);
    const token = String(await page.evaluate(`sessionStorage.getItem(${JSON.stringify(tokenKey)})`));
    assert.match(token, /^rst_lt_/);
    await access.call("ListRights", {}, { key: token });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    assert.equal(await page.evaluate(`sessionStorage.getItem(${JSON.stringify(tokenKey)})`), null);
    await rejectsWith(access.call("ListRights", {}, { key: token }), UNAUTHENTICATED);

    await page.getByLabel("API key", { exact: true }).fill(server.adminKey);
    await page.getByRole("button", { name: "Use API key" }).click();
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    assert.match((await page.locator(".who").textContent()) ?? "", /Signed in as admin \(admin, API key\)/);
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    await access.call("ListRights", {}, { key: server.adminKey });
  });
});
