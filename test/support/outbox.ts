import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import type { TestServer } from "./server.js";

/** One email a test server wrote to its outbox folder. */
export interface OutboxEmail {
  file: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Every http(s) address in the text and every href of the HTML, in order, without repeats. */
  links: string[];
}

/** Every email in the server's outbox folder, oldest first. */
export async function readOutbox(server: TestServer): Promise<OutboxEmail[]> {
  const dir = join(server.dataDir, "outbox");
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith(".eml"))
      .sort();
  } catch {
    return [];
  }
  const emails: OutboxEmail[] = [];
  for (const file of files) {
    const mail = await simpleParser(readFileSync(join(dir, file)));
    const to = [mail.to]
      .flat()
      .flatMap((a) => a?.value ?? [])
      .map((v) => v.address ?? "")
      .join(",");
    const text = mail.text ?? "";
    const html = typeof mail.html === "string" ? mail.html : "";
    const links = [
      ...new Set([
        ...[...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]),
        ...[...html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] as string).replace(/&amp;/g, "&")),
      ]),
    ];
    emails.push({ file, to, subject: mail.subject ?? "", text, html, links });
  }
  return emails;
}

/** Wait until an email matching `predicate` is in the outbox (emails are delivered in the background). */
export async function waitForEmail(
  server: TestServer,
  predicate: (email: OutboxEmail) => boolean,
  timeoutMs = 15_000,
): Promise<OutboxEmail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await readOutbox(server)).filter(predicate).at(-1);
    if (found) return found;
    if (Date.now() > deadline) throw new Error("no such email reached the outbox in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The token in a link's fragment (`#token=...`, `#invitation=...`). */
export function linkToken(link: string, name = "token"): string {
  return new URLSearchParams(new URL(link).hash.slice(1)).get(name) ?? "";
}

/**
 * The emails to `to`: once `count` of them are there (waiting up to 15 s),
 * or, without `count`, after `settle` ms for the queue to deliver what it
 * would (to show that nothing comes).
 */
export async function mailsTo(
  server: TestServer,
  to: string,
  options: { count?: number; settle?: number } = {},
): Promise<OutboxEmail[]> {
  const mine = async () => (await readOutbox(server)).filter((m) => m.to === to);
  if (options.count === undefined) {
    await new Promise((r) => setTimeout(r, options.settle ?? 1500));
    return mine();
  }
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
    const found = await mine();
    if (found.length >= options.count) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return mine();
}
