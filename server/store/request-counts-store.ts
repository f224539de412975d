import type { Collection, Db } from "mongodb";
import { ensureIndexes } from "./database.js";

interface RequestDocument {
  /** What is counted: `reset-email:<address>`, `reset-client:<ip>`. */
  key: string;
  at: Date;
}

/**
 * Counts of recent requests per key, for throttling requests that send
 * email. Every request is stored first and counted after, so concurrent
 * requests (on any number of server instances) all see each other: a burst
 * can only make the count higher, never let more through than the limit.
 */
export interface RequestCountsStore {
  ensureIndexes(): Promise<void>;
  /** Record a request on `key` at `at`; return how many `key` has since `since`, counting at most `cap`. */
  add(key: string, at: Date, since: Date, cap: number): Promise<number>;
  /** Remove requests older than `before`. */
  sweep(before: Date): Promise<number>;
}

export function createRequestCountsStore(db: Db): RequestCountsStore {
  const requests: Collection<RequestDocument> = db.collection<RequestDocument>("request_counts");
  return {
    async ensureIndexes() {
      await ensureIndexes(requests, [
        { key: { key: 1, at: -1 }, name: "key_1_at_-1" },
        { key: { at: 1 }, name: "at_1" },
      ]);
    },
    async add(key, at, since, cap) {
      await requests.insertOne({ key, at });
      return requests.countDocuments({ key, at: { $gt: since } }, { limit: cap });
    },
    async sweep(before) {
      return (await requests.deleteMany({ at: { $lt: before } })).deletedCount;
    },
  };
}
