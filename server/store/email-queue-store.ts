import type { Collection, Db } from "mongodb";
import { ensureIndexes } from "./database.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

/**
 * A queued email. The body is sealed (see secret-box.ts) because it may
 * carry a token or a temporary password, and dropped once sent.
 */
export interface EmailDocument {
  _id: string;
  to: string;
  template: string;
  subject: string;
  /** Sealed JSON `{text, html}`; null once sent. */
  sealed: string | null;
  /** Which key sealed it; only instances holding that key deliver it. */
  key_id: string;
  status: "pending" | "sent" | "failed";
  attempts: number;
  next_attempt_at: Date;
  /** A worker holds the message until then. */
  lease_until: Date | null;
  created_at: Date;
  sent_at: Date | null;
  last_error: string;
  revision: number;
}

export interface EmailQueueStore {
  ensureIndexes(): Promise<void>;
  enqueue(doc: EmailDocument): Promise<void>;
  /** Pending messages sealed with `keyId` that are due and not leased. */
  due(keyId: string, now: Date, limit: number): Promise<EmailDocument[]>;
  /**
   * Lease a message for delivery until `until`. Only one worker (of any
   * instance) wins a lease; returns the leased message or null.
   */
  lease(id: string, now: Date, until: Date): Promise<EmailDocument | null>;
  /** Record the outcome of a leased delivery. */
  settle(id: string, outcome: Partial<Omit<EmailDocument, "_id" | "revision">>): Promise<void>;
  get(id: string): Promise<EmailDocument | null>;
  /** Remove sent and failed messages settled before `before`. */
  sweep(before: Date): Promise<number>;
}

export function createEmailQueueStore(db: Db): EmailQueueStore {
  const emails: Collection<EmailDocument> = db.collection<EmailDocument>("email_queue");
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);
  const busy = () => new Error("email queue entry is busy");
  const missing = () => new Error("email queue entry vanished");
  return {
    async ensureIndexes() {
      await ensureIndexes(emails, [
        { key: { status: 1, next_attempt_at: 1 }, name: "status_1_next_attempt_at_1" },
        { key: { created_at: 1 }, name: "created_at_1" },
      ]);
    },
    async enqueue(doc) {
      await emails.insertOne(doc);
    },
    async due(keyId, now, limit) {
      return emails
        .find(
          { status: "pending", key_id: keyId, next_attempt_at: { $lte: now } },
          { sort: { next_attempt_at: 1 }, limit: limit * 2 },
        )
        .toArray()
        .then((docs) => docs.filter((d) => !d.lease_until || d.lease_until <= now).slice(0, limit));
    },
    async lease(id, now, until) {
      let leased = false;
      const { after } = await versionedUpdate<EmailDocument>({
        collection: emails,
        writeLocks,
        scope: "email_queue",
        load: () => emails.findOne({ _id: id }),
        change(current) {
          if (current.status !== "pending" || (current.lease_until && current.lease_until > now)) return undefined;
          leased = true;
          return { ...current, lease_until: until };
        },
        // Another worker moved it first: not ours.
        conflict: () => busy(),
        missing,
        busy,
      }).catch((err) => {
        if (err instanceof Error && err.message === busy().message) return { after: null };
        throw err;
      });
      return leased ? after : null;
    },
    async settle(id, outcome) {
      await versionedUpdate<EmailDocument>({
        collection: emails,
        writeLocks,
        scope: "email_queue",
        load: () => emails.findOne({ _id: id }),
        change: (current) => ({ ...current, ...outcome }),
        missing,
        busy,
      });
    },
    get: (id) => emails.findOne({ _id: id }),
    async sweep(before) {
      return (await emails.deleteMany({ status: { $in: ["sent", "failed"] }, created_at: { $lt: before } }))
        .deletedCount;
    },
  };
}
