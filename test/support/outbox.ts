import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import type { TestServer } from "./server.js";
import { recipients } from "./smtp.js";

/** A mail written to a server's outbox folder (no SMTP configured). */
export interface OutboxMail {
  to: string;
  subject: string;
  text: string;
}

/** Every mail in the server's outbox so far. */
export async function outboxMails(server: TestServer): Promise<OutboxMail[]> {
  const outbox = join(server.dataDir, "outbox");
  let files: string[] = [];
  try {
    files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
  } catch {}
  const mails: OutboxMail[] = [];
  for (const f of files.sort()) {
    const mail = await simpleParser(readFileSync(join(outbox, f)));
    mails.push({ to: recipients(mail), subject: mail.subject ?? "", text: mail.text ?? "" });
  }
  return mails;
}

/**
 * The mails to `to`: once `count` of them are there (waiting up to 15 s),
 * or, without `count`, after `settle` ms for the queue to deliver what it
 * would (to show that nothing comes).
 */
export async function mailsTo(
  server: TestServer,
  to: string,
  options: { count?: number; settle?: number } = {},
): Promise<OutboxMail[]> {
  const mine = async () => (await outboxMails(server)).filter((m) => m.to === to);
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
