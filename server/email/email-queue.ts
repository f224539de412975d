import { createQueueWorker } from "../queue/queue-worker.js";
import type { Logger } from "../runtime/log.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { newRecordId } from "../secrets/token-format.js";
import type { EmailDocument, EmailQueueStore } from "../store/email-queue-store.js";
import type { MailTransport } from "./mailer.js";
import { type EmailTemplate, renderEmail } from "./templates.js";

export { retryDelayMs } from "../queue/queue-worker.js";

/**
 * Outgoing email, queued in the database and delivered in the background:
 * sending never blocks or fails the RPC that asked for it, and a message
 * survives SMTP outages and restarts. It is a durable queue
 * (store/queue-store.ts, queue/queue-worker.ts), as webhook deliveries are:
 * delivery is leased, so across several instances one worker at a time
 * holds a message.
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

export function createEmailQueue(options: EmailQueueOptions): EmailQueue {
  const { store, transport, box, log } = options;

  const worker = createQueueWorker<EmailDocument>({
    name: "email",
    store,
    keyId: box.keyId,
    log,
    pollIntervalMs: options.pollIntervalMs,
    maxAttempts: options.maxAttempts,
    retryDelayMs: options.retryDelayMs,
    leaseMs,
    // A message given up keeps no body: it may carry a token.
    givenUp: { sealed: null },
    async attempt(message) {
      if (!message.sealed) return { ok: false, final: true, error: "nothing to send" };
      const body = JSON.parse(box.open(message.sealed)) as { text: string; html: string };
      await transport.send({ id: message._id, to: message.to, subject: message.subject, ...body });
      return { ok: true, set: { sealed: null, sent_at: new Date() } };
    },
    settled({ entry: message, status, attempts, outcome }) {
      if (status === "sent") {
        log.info(
          { email: message._id, to: message.to, template: message.template, attempts, via: transport.kind },
          "email sent",
        );
        return;
      }
      const failed = status === "failed";
      log.warn(
        { email: message._id, to: message.to, template: message.template, attempts, failed, reason: outcome.error },
        "email not sent",
      );
    },
  });

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
    deliverDue: () => worker.deliverDue(),
    start: () => worker.start(),
    async stop() {
      await worker.stop();
      transport.close();
    },
  };
  return queue;
}
