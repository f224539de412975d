import { readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";

/** One message ready to go. `id` becomes its Message-ID. */
export interface OutgoingEmail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** How emails leave: SMTP, or files in an outbox folder when no SMTP server is configured. */
export interface MailTransport {
  readonly kind: "smtp" | "outbox";
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
}

export interface MailOptions {
  /** smtp://user:pass@host:port or smtps://...; unset: write to the outbox folder. */
  smtpUrl?: string;
  from: string;
  /** Refuse to send without STARTTLS. */
  requireTls: boolean;
  /** Trust this CA (PEM file) for the SMTP server's certificate. */
  caFile?: string;
  /** Check the SMTP server's certificate (turn off only for tests). */
  rejectUnauthorized: boolean;
  outboxDir: string;
}

const domainOf = (address: string) => /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? "roster.local";

export function createMailTransport(options: MailOptions): MailTransport {
  const messageId = (id: string) => `<${id}@${domainOf(options.from)}>`;
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: options.smtpUrl,
      requireTLS: options.requireTls,
      tls: {
        rejectUnauthorized: options.rejectUnauthorized,
        ...(options.caFile ? { ca: readFileSync(options.caFile, "utf8") } : {}),
      },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return {
      kind: "smtp",
      async send(email) {
        await transport.sendMail({ ...email, from: options.from, messageId: messageId(email.id) });
      },
      close: () => transport.close(),
    };
  }
  // nodemailer builds the same MIME message it would send; it is written as
  // a .eml file (temporary name, then rename, so readers never see half).
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    kind: "outbox",
    async send(email) {
      const info = await builder.sendMail({ ...email, from: options.from, messageId: messageId(email.id) });
      await mkdir(options.outboxDir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, "-")}-${email.id}.eml`;
      const path = join(options.outboxDir, name);
      await writeFile(`${path}.tmp`, info.message as Buffer, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    },
    close: () => builder.close(),
  };
}
