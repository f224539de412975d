import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import type { TestServer } from "./server.js";

/**
 * The web console in a real Chromium (Debian's package, driven by
 * playwright-core): pages that record every browser console error and
 * uncaught exception, screenshots at desktop and phone widths, and an
 * accessibility check with axe-core.
 */

export const chromiumPath = "/usr/bin/chromium";
export const chromiumMissing = existsSync(chromiumPath)
  ? undefined
  : `Chromium is not installed at ${chromiumPath} (apt-get install chromium): the web console was NOT tested`;

/** Chromium's own background traffic is refused by this machine's closed network; these flags keep it quiet. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The widths every new page is checked and photographed at: a desktop and a small phone. */
export const widths = [1280, 375] as const;

export interface ConsoleBrowser {
  context: BrowserContext;
  /** Where screenshots go (kept after the run; the test prints it). */
  shots: string;
  /** Browser console errors and uncaught exceptions of every page so far, with the page's URL. */
  problems: string[];
  close(): Promise<void>;
}

export async function openConsoleBrowser(name: string): Promise<ConsoleBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "roster-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: widths[0], height: 900 },
  });
  return {
    context,
    shots: mkdtempSync(join(tmpdir(), `roster-${name}-screenshots-`)),
    problems: [],
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab (its own sessionStorage, so its own session) whose console errors are recorded. */
export async function watchedPage(browser: ConsoleBrowser): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (error) => browser.problems.push(`${page.url()}: uncaught ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") browser.problems.push(`${page.url()}: console error: ${message.text()}`);
  });
  return page;
}

/** A new tab signed in with a password. */
export async function signedIn(
  browser: ConsoleBrowser,
  server: TestServer,
  userId: string,
  password: string,
): Promise<Page> {
  const page = await watchedPage(browser);
  await page.goto(`${server.url}/console/`);
  await page.getByLabel("User ID or email address").fill(userId);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

/** Go to a page of the console by its fragment (`#/users/ada`). */
export async function visit(page: Page, server: TestServer, fragment: string): Promise<void> {
  await page.goto(`${server.url}/console/${fragment}`);
  await page.getByRole("heading", { level: 1 }).waitFor();
  await page.locator("[aria-busy]").first().waitFor({ state: "detached" });
}

/**
 * Photograph the page at each width into `browser.shots` (`<name>-1280.png`,
 * `<name>-375.png`), checking at each that nothing is wider than the
 * window (tables scroll inside their own box).
 */
export async function screenshots(browser: ConsoleBrowser, page: Page, name: string): Promise<void> {
  for (const width of widths) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForFunction(`document.documentElement.clientWidth === ${width}`);
    const wide = Number(await page.evaluate("document.documentElement.scrollWidth"));
    assert.ok(wide <= width, `${name} at ${width} px is ${wide} px wide: the layout breaks`);
    const file = join(browser.shots, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 5_000, `a screenshot of ${name} at ${width} px`);
  }
  await page.setViewportSize({ width: widths[0], height: 900 });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * Run axe-core (WCAG 2.1 A and AA rules) on the page as it is, and return
 * its violations as `rule: target` lines (none is the goal).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  // A string: the test code is compiled without the DOM's types.
  const violations = (await page.evaluate(`
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
      .then((result) => result.violations.map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target.join(" ")) })))
  `)) as { id: string; targets: string[] }[];
  return violations.flatMap((v) => v.targets.map((t) => `${v.id}: ${t}`));
}

/** The accessible name of the focused element, roughly: aria-label, its label, or its text. */
const focusedName = `(() => {
  const e = document.activeElement;
  if (!e) return "";
  if (e.getAttribute("aria-label")) return e.getAttribute("aria-label");
  const label = e.id ? document.querySelector('label[for="' + e.id + '"]') : null;
  return label ? label.textContent : e.textContent || "";
})()`;

/** Move the focus with Tab until `name` has it; fails after `limit` presses. */
export async function tabTo(page: Page, name: string | RegExp, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = String(await page.evaluate(focusedName));
    if (typeof name === "string" ? focused.trim() === name : name.test(focused)) return;
  }
  assert.fail(`${name} was not reached with ${limit} presses of Tab`);
}

/** Skip the test, saying why, when Chromium is missing; true when it was skipped. */
export function skipWithoutChromium(t: TestContext): boolean {
  if (chromiumMissing) t.skip(chromiumMissing);
  return !!chromiumMissing;
}

/** Check the page with axe-core and photograph it at both widths. */
export async function checkPage(browser: ConsoleBrowser, page: Page, name: string): Promise<void> {
  assert.deepEqual(await axeViolations(page), [], `axe-core finds no WCAG 2.1 A/AA violation on ${name}`);
  await screenshots(browser, page, name);
}
