import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type GrpcClient, grpcClient } from "./support/clients.js";
import { chromiumArgs, chromiumPath } from "./support/console-browser.js";
import { createUser } from "./support/fixtures.js";
import { type OutboxEmail, readOutbox, waitForEmail } from "./support/outbox.js";
import { startServer, type TestServer } from "./support/server.js";

/**
 * The self-service pages in a real Chromium against a real server: the
 * whole path from an invitation to signing in with a reset password, as a
 * newcomer would walk it, reading every email from the outbox. Every page
 * is photographed at 1280 and 375 px wide, must not overflow at 375 px,
 * and any browser console error fails the test.
 */

const chromiumMissing = existsSync(chromiumPath)
  ? undefined
  : `Chromium is not installed at ${chromiumPath} (apt-get install chromium): the self-service pages were NOT tested`;

/** Where the screenshots go: a folder of this name under the OS temp dir, replaced by each run. */
const screenshots = join(tmpdir(), "roster-self-service-screenshots");

const adminPassword = "the operator's own passphrase";
const invitedPassword = "an invited person's passphrase";
const firstPassword = "rita registers with this passphrase";
const secondPassword = "rita resets to this new passphrase";

describe("self-service pages in a browser", () => {
  let server: TestServer;
  let shortLived: TestServer;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;
  const consoleErrors: string[] = [];
  const clients: GrpcClient[] = [];
  const shot: string[] = [];
  /** `GET /roster.v1.SelfService/GetOptions`: the RPCs the pages and the console sent, by HTTP method. */
  const rpcs: string[] = [];

  before(async () => {
    if (chromiumMissing) return;
    [server, shortLived] = await Promise.all([
      startServer({ args: ["--registration", "open", "--registration-approval", "auto"] }),
      startServer({ args: ["--password-reset-ttl", "1s"] }),
    ]);
    await createUser(server, { userId: "operator", admin: true, password: adminPassword });
    rmSync(screenshots, { recursive: true, force: true });
    mkdirSync(screenshots, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), "roster-self-service-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 900 },
    });
    page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith("/roster.v1.")) rpcs.push(`${request.method()} ${path}`);
    });
  });

  after(async () => {
    if (chromiumMissing) return;
    await browser?.close();
    for (const c of clients) c.close();
    await Promise.all([server?.stop(), shortLived?.stop()]);
    rmSync(profile, { recursive: true, force: true });
  });

  const skipWithoutChromium = (t: TestContext) => {
    if (chromiumMissing) t.skip(chromiumMissing);
    return !!chromiumMissing;
  };

  /** Screenshots of the page at 1280 and 375 px; at 375 px nothing may stick out sideways. */
  async function photograph(name: string): Promise<void> {
    await page.getByRole("heading", { level: 1 }).waitFor();
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = (await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number;
      assert.ok(overflow <= 0, `${name} is ${overflow} px wider than a ${width} px window`);
      const path = join(screenshots, `${name}-${width}.png`);
      await page.screenshot({ path, fullPage: true });
      assert.ok(statSync(path).size > 3000, `a screenshot of ${name} at ${width} px`);
      shot.push(path);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  async function heading(text: string): Promise<void> {
    await page.getByRole("heading", { level: 1, name: text }).waitFor();
  }

  const newer = (emails: OutboxEmail[]) => emails.at(-1)?.file ?? "";

  it("walks from an invitation to signing in with a reset password", async (t) => {
    if (skipWithoutChromium(t)) return;
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    clients.push(users);

    // An admin signs in on the public page and lands in the console.
    await page.goto(`${server.url}/sign-in`);
    await heading("Sign in");
    await photograph("sign-in");
    await page.getByLabel("User ID or email address").fill("operator");
    await page.getByLabel("Password", { exact: true }).fill(adminPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/console/");

    // ... and sends an invitation from the console.
    await page.getByRole("link", { name: "Invitations" }).click();
    await heading("Invitations");
    await page.getByLabel("Email address").fill("ivy@example.com");
    await page.getByRole("button", { name: "Send invitation" }).click();
    const invitation = await waitForEmail(server, (m) => m.to === "ivy@example.com");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Roster" }).waitFor();

    // The invitee opens the link and registers.
    const invitationLink = invitation.links[0] as string;
    assert.match(invitationLink, /\/register#invitation=rst_iv_/);
    await page.goto(invitationLink);
    await heading("Accept your invitation");
    assert.equal(await page.getByLabel("Email address").inputValue(), "ivy@example.com");
    await photograph("accept-invitation");
    await page.getByLabel("User ID").fill("ivy");
    await page.getByLabel("Name").fill("Ivy Invited");
    // Too short: said next to the field, and nothing is sent.
    await page.getByLabel("New password").fill("short");
    await page.getByRole("button", { name: "Create the account" }).click();
    const passwordField = page.locator(".field").filter({ has: page.getByLabel("New password") });
    await passwordField.locator(".field-error").filter({ hasText: "meets the rules" }).waitFor();
    assert.equal(await page.getByLabel("New password").getAttribute("aria-invalid"), "true");
    await photograph("register-password-error");
    await page.getByLabel("New password").fill(invitedPassword);
    await passwordField.getByText("this password is fine").waitFor();
    await page.getByRole("button", { name: "Create the account" }).click();
    await heading("Your account is created");
    await photograph("account-created");
    const { user: ivy } = await users.call("Get", { user_id: "ivy" });
    assert.equal(ivy.name, "Ivy Invited");
    assert.ok(ivy.primary_email_address_validated_at, "the invitation proved the address");

    // Somebody registers without an invitation (open registration) and confirms the address from the second email.
    await page.goto(`${server.url}/register`);
    await heading("Create an account");
    await photograph("register");
    await page.getByLabel("User ID").fill("rita");
    await page.getByLabel("Name").fill("Rita Registered");
    await page.getByLabel("Email address").fill("rita@example.com");
    await page.getByLabel("New password").fill(firstPassword);
    await page.getByRole("button", { name: "Create the account" }).click();
    await heading("Your account is created");
    await page.getByText("We sent a link to rita@example.com").waitFor();
    const validation = await waitForEmail(server, (m) => m.to === "rita@example.com");
    assert.equal(validation.subject, "Confirm your email address");
    const validationLink = validation.links[0] as string;
    await page.goto(validationLink);
    await heading("Confirm your email address");
    await photograph("verify-email");
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await heading("Your email address is confirmed");
    await photograph("email-confirmed");
    const { user: rita } = await users.call("Get", { user_id: "rita" });
    assert.ok(rita.primary_email_address_validated_at, "validated through the page");

    // Signs in and out.
    await page.getByRole("link", { name: "Sign in" }).click();
    await heading("Sign in");
    await page.getByLabel("User ID or email address").fill("rita@example.com");
    await page.getByLabel("Password", { exact: true }).fill(firstPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Roster" }).waitFor();

    // Forgot the password: from the console's sign-in form, by keyboard alone.
    const before = newer(await readOutbox(server));
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await heading("Forgot your password?");
    await photograph("forgot-password");
    for (let i = 0; i < 10 && !(await page.evaluate("document.activeElement?.getAttribute('type') === 'email'")); i++) {
      await page.keyboard.press("Tab");
    }
    assert.ok(
      await page.evaluate("document.activeElement?.getAttribute('type') === 'email'"),
      "Tab reaches the address field",
    );
    const outline = (await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")) as string;
    assert.notEqual(outline, "none", "the focused field shows its focus");
    await page.keyboard.type("rita@example.com");
    await page.keyboard.press("Enter");
    await page.getByText("a link to choose a new password is on its way").waitFor();
    await photograph("forgot-password-sent");
    const reset = await waitForEmail(server, (m) => m.to === "rita@example.com" && m.file > before);
    assert.equal(reset.subject, "Reset your password");
    const resetLink = reset.links[0] as string;
    await page.goto(resetLink);
    await heading("Choose a new password");
    await photograph("reset-password");
    await page.getByLabel("New password").fill(secondPassword);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await heading("Your password is set");
    await photograph("password-set");

    // Signs in with the new password.
    await page.getByRole("link", { name: "Sign in" }).click();
    await heading("Sign in");
    await page.getByLabel("User ID or email address").fill("rita");
    await page.getByLabel("Password", { exact: true }).fill(secondPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Roster" }).waitFor();

    // Used links each say so.
    await page.goto(resetLink);
    await heading("This link was already used");
    await photograph("used-reset-link");
    await page.goto(validationLink);
    await heading("This link was already used");
    await page.goto(invitationLink);
    await heading("This link was already used");
    await photograph("used-invitation-link");
  });

  it("shows an expired link's page", async (t) => {
    if (skipWithoutChromium(t)) return;
    const user = await createUser(shortLived, { userId: "slow-reader" });
    const self = grpcClient(shortLived, "roster.v1.SelfService");
    clients.push(self);
    await self.call("RequestPasswordReset", { email: user.email });
    const mail = await waitForEmail(shortLived, (m) => m.to === user.email && m.subject === "Reset your password");
    await new Promise((r) => setTimeout(r, 1100));
    await page.goto(mail.links[0] as string);
    await heading("This link has expired");
    await page.getByRole("link", { name: "Ask for a new password reset link" }).waitFor();
    await photograph("expired-reset-link");
    await page.goto(`${shortLived.url}/register`);
    await heading("Registration needs an invitation");
    await photograph("register-invitation-only");
  });

  it("answers every link of every email the servers sent with a page", async (t) => {
    if (skipWithoutChromium(t)) return;
    // The welcome email of Setup links to the sign-in page.
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    clients.push(users);
    await users.call("Setup", { user_id: "ivy", send_email: true });
    await waitForEmail(server, (m) => m.to === "ivy@example.com" && m.subject === "Your account is ready");
    const emails = [...(await readOutbox(server)), ...(await readOutbox(shortLived))];
    const links = [...new Set(emails.flatMap((m) => m.links))];
    assert.ok(links.length >= 5, `links found: ${links.join(", ")}`);
    for (const link of links) {
      const res = await fetch(link);
      assert.equal(res.status, 200, link);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/, link);
      assert.match(await res.text(), /<main id="main">/, link);
      await page.goto(link);
      await page.getByRole("heading", { level: 1 }).waitFor();
      assert.notEqual(await page.getByRole("heading", { level: 1 }).textContent(), "Something went wrong", link);
    }
    t.diagnostic(`${links.length} links checked from ${emails.length} emails`);
  });

  it("logged no browser console error, and left its screenshots", (t) => {
    if (skipWithoutChromium(t)) return;
    // The pages' reads marked NO_SIDE_EFFECTS go as GET (useHttpGet); the rest, and those carrying
    // secrets, as POST. (The console speaks gRPC-Web, always POST: see the README.)
    for (const read of ["SelfService/GetOptions"]) {
      assert.ok(rpcs.includes(`GET /roster.v1.${read}`), `${read} went as GET: ${[...new Set(rpcs)].join(", ")}`);
      assert.ok(!rpcs.includes(`POST /roster.v1.${read}`), `${read} never as POST`);
    }
    for (const write of ["UserAccess/Authenticate", "SelfService/CheckPassword", "SelfService/DescribeLink"]) {
      assert.ok(rpcs.includes(`POST /roster.v1.${write}`), `${write} went as POST`);
      assert.ok(!rpcs.includes(`GET /roster.v1.${write}`), `${write} never as GET`);
    }
    assert.deepEqual(consoleErrors, []);
    assert.ok(shot.length >= 24, `${shot.length} screenshots`);
    t.diagnostic(`screenshots (1280 and 375 px) in ${screenshots}`);
    process.stdout.write(`# self-service screenshots: ${screenshots}\n`);
  });
});
