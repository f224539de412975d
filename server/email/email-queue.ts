import { newRecordId } from "../access/token-format.js";
import { inBackground } from "../background.js";
import type { Logger } from "../log.js";
import type { SecretBox } from "../secret-box.js";
import type { EmailQueueStore } from "../store/email-queue-store.js";
import type { MailTransport } from "./mailer.js";
import { type EmailTemplate, renderEmail } from "./templates.js";

/**
 * Outgoing email, queued in the database and delivered in the background:
 * sending never blocks or fails the RPC that asked for it, and a message
 * survives SMTP outages and restarts. Delivery is leased, so across several
 * instances one worker at a time holds a message.
 */
export interface EmailQueue {
  /** Queue a message; logs (never throws) if even that fails. */
  enqueue(to: string, template: EmailTemplate): Promise<void>;
  /** Deliver what is due, now (also runs on a timer). */
  deliverDue(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export interface EmailQueueOptions {
  store: EmailQueueStore;
  transport: MailTransport;
  box: SecretBox;
  log: Logger;
  /** How often to look for due messages. Default 1 s. */
  pollIntervalMs: number;
  /** Attempts before a message is given up. Default 25 (about a day of backoff). */
  maxAttempts: number;
  /** Wait before the first retry; doubles per attempt up to an hour. Default 5 s. */
  retryDelayMs: number;
}

/** How long a worker holds a message: well above SMTP's own timeouts. */
const leaseMs = 5 * 60_000;

/** Wait before attempt n+1: `base`, doubling, at most an hour. */
export function retryDelayMs(base: number, attempts: number): number {
  return Math.min(3_600_000, base * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

export function createEmailQueue(options: EmailQueueOptions): EmailQueue {
  const { store, transport, box, log } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function deliverOne(id: string): Promise<void> {
    const now = new Date();
    const message = await store.lease(id, now, new Date(now.getTime() + leaseMs));
    if (!message?.sealed) return;
    const attempts = message.attempts + 1;
    try {
      const body = JSON.parse(box.open(message.sealed)) as { text: string; html: string };
      await transport.send({ id: message._id, to: message.to, subject: message.subject, ...body });
      await store.settle(id, {
        status: "sent",
        sealed: null,
        sent_at: new Date(),
        attempts,
        lease_until: null,
        last_error: "",
      });
      log.info({ email: id, to: message.to, template: message.template, attempts, via: transport.kind }, "email sent");
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const failed = attempts >= options.maxAttempts;
      await store.settle(id, {
        status: failed ? "failed" : "pending",
        sealed: failed ? null : message.sealed,
        attempts,
        lease_until: null,
        next_attempt_at: new Date(Date.now() + retryDelayMs(options.retryDelayMs, attempts)),
        last_error: reason.slice(0, 500),
      });
      log.warn({ email: id, to: message.to, template: message.template, attempts, failed, reason }, "email not sent");
    }
  }

  const queue: EmailQueue = {
    async enqueue(to, template) {
      const content = renderEmail(template);
      const id = newRecordId("em");
      try {
        await store.enqueue({
          _id: id,
          to,
          template: template.kind,
          subject: content.subject,
          sealed: box.seal(JSON.stringify({ text: content.text, html: content.html })),
          key_id: box.keyId,
          status: "pending",
          attempts: 0,
          next_attempt_at: new Date(),
          lease_until: null,
          created_at: new Date(),
          sent_at: null,
          last_error: "",
          revision: 1,
        });
        log.info({ email: id, to, template: template.kind }, "email queued");
        queue.deliverDue().catch(() => {});
      } catch (err) {
        log.error({ err, to, template: template.kind }, "email could not be queued");
      }
    },

    deliverDue() {
      // Often set going by a call (enqueue), but not bound to it.
      running ??= inBackground(async () => {
        try {
          for (;;) {
            const due = await store.due(box.keyId, new Date(), 20);
            if (due.length === 0) return;
            for (const message of due) await deliverOne(message._id);
            if (due.length < 20) return;
          }
        } catch (err) {
          log.warn({ err }, "email delivery round failed");
        } finally {
          running = undefined;
        }
      });
      return running;
    },

    start() {
      timer = setInterval(() => void queue.deliverDue(), options.pollIntervalMs);
      timer.unref();
      void queue.deliverDue();
    },

    async stop() {
      clearInterval(timer);
      await running;
      transport.close();
    },
  };
  return queue;
}
