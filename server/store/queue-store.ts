import type { Collection, Db, Filter, IndexDescription } from "mongodb";
import { ensureIndexes, isDuplicateKeyError } from "./database.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

/**
 * An entry of a durable queue (queued emails, webhook deliveries): waiting
 * (`pending`) until `next_attempt_at`, held by one worker of any server
 * process while `lease_until` has not passed, and settled `sent` or
 * `failed`. Written only through versioned updates (claims.ts), so that two
 * workers never both win an entry, on any backend.
 */
export interface QueuedDocument {
  _id: string;
  status: "pending" | "sent" | "failed";
  attempts: number;
  next_attempt_at: Date;
  /** A worker holds the entry until then. */
  lease_until: Date | null;
  /** Which key sealed what the entry needs; only instances holding that key deliver it. */
  key_id: string;
  created_at: Date;
  last_error: string;
  revision: number;
}

export interface QueueStore<T extends QueuedDocument> {
  ensureIndexes(): Promise<void>;
  /** Queue an entry; false when one with its `_id` is queued already (queueing is idempotent). */
  enqueue(doc: T): Promise<boolean>;
  /** Pending entries for `keyId` that are due and not leased, soonest first. */
  due(keyId: string, now: Date, limit: number): Promise<T[]>;
  /**
   * Lease an entry for delivery until `until`. Only one worker (of any
   * instance) wins a lease; returns the leased entry or null.
   */
  lease(id: string, now: Date, until: Date): Promise<T | null>;
  /** Record the outcome of a leased delivery. */
  settle(id: string, outcome: Partial<Omit<T, "_id" | "revision">>): Promise<void>;
  get(id: string): Promise<T | null>;
  /** Remove sent and failed entries queued before `before`. */
  sweep(before: Date): Promise<number>;
  collection: Collection<T>;
}

/**
 * The queue in `collection`, its entries' claims named `<scope>:<id>@<n>`.
 * `indexes` are created besides the queue's own.
 */
export function createQueueStore<T extends QueuedDocument>(
  db: Db,
  name: string,
  scope: string,
  indexes: IndexDescription[] = [],
): QueueStore<T> {
  const entries = db.collection<T>(name);
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);
  const busy = () => new Error(`${name} entry is busy`);
  const missing = () => new Error(`${name} entry vanished`);
  const byId = (id: string) => ({ _id: id }) as Filter<T>;
  return {
    collection: entries,
    async ensureIndexes() {
      await ensureIndexes(entries, [
        { key: { status: 1, next_attempt_at: 1 }, name: "status_1_next_attempt_at_1" },
        { key: { created_at: 1 }, name: "created_at_1" },
        ...indexes,
      ]);
    },
    async enqueue(doc) {
      try {
        await entries.insertOne(doc as Parameters<Collection<T>["insertOne"]>[0]);
        return true;
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
    },
    async due(keyId, now, limit) {
      const docs = await entries
        .find({ status: "pending", key_id: keyId, next_attempt_at: { $lte: now } } as Filter<T>, {
          sort: { next_attempt_at: 1 },
          limit: limit * 2,
        })
        .toArray();
      return (docs as T[]).filter((d) => !d.lease_until || d.lease_until <= now).slice(0, limit);
    },
    async lease(id, now, until) {
      let leased = false;
      const { after } = await versionedUpdate<T>({
        collection: entries,
        writeLocks,
        scope,
        load: () => entries.findOne(byId(id)) as Promise<T | null>,
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
        if (err instanceof Error && (err.message === busy().message || err.message === missing().message)) {
          return { after: null };
        }
        throw err;
      });
      return leased ? after : null;
    },
    async settle(id, outcome) {
      await versionedUpdate<T>({
        collection: entries,
        writeLocks,
        scope,
        load: () => entries.findOne(byId(id)) as Promise<T | null>,
        change: (current) => ({ ...current, ...outcome }),
        missing,
        busy,
      });
    },
    get: (id) => entries.findOne(byId(id)) as Promise<T | null>,
    async sweep(before) {
      return (
        await entries.deleteMany({ status: { $in: ["sent", "failed"] }, created_at: { $lt: before } } as Filter<T>)
      ).deletedCount;
    },
  };
}
