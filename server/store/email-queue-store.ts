import type { Db } from "mongodb";
import { createQueueStore, type QueuedDocument, type QueueStore } from "./queue-store.js";

/**
 * A queued email. The body is sealed (see secret-box.ts) because it may
 * carry a token or a temporary password, and dropped once sent.
 */
export interface EmailDocument extends QueuedDocument {
  to: string;
  template: string;
  subject: string;
  /** Sealed JSON `{text, html}`; null once sent. */
  sealed: string | null;
  sent_at: Date | null;
}

/** The email queue: a durable queue (queue-store.ts) in the `email_queue` collection. */
export type EmailQueueStore = QueueStore<EmailDocument>;

export function createEmailQueueStore(db: Db): EmailQueueStore {
  return createQueueStore<EmailDocument>(db, "email_queue", "email_queue");
}
