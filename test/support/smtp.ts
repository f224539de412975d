import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A real SMTP server for tests, keeping every message it receives. */
export interface TestSmtp {
  port: number;
  url: string;
  messages: ParsedMail[];
  /** Wait until a message matches, and return it. */
  waitFor(predicate: (m: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export async function startSmtp(port = 0): Promise<TestSmtp> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          messages.push(mail);
          callback();
        },
        (err) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = (server.server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `smtp://127.0.0.1:${bound}`,
    messages,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no matching email within ${timeoutMs} ms (${messages.length} received)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The recipients of a message, as text. */
export function recipients(mail: ParsedMail): string {
  const to = mail.to;
  if (!to) return "";
  return (Array.isArray(to) ? to : [to]).map((a) => a.text).join(", ");
}

/** The invitation token in an email body. */
export function tokenIn(mail: ParsedMail): string {
  const token = /rst_iv_[0-9A-Za-z]{38}/.exec(mail.text ?? "")?.[0];
  if (!token) throw new Error(`no token in: ${mail.text}`);
  return token;
}
