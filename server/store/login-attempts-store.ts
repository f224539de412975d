import type { Collection, Db, ObjectId } from "mongodb";
import { ensureIndexes } from "./database.js";

/**
 * One failed login. Failures are inserted, never counted up in place:
 * FerretDB 1.x loses concurrent `$inc`s, inserts are never lost, so counting
 * documents stays right across server instances and under load.
 */
interface LoginFailureDocument {
  _id?: ObjectId;
  /** The account: `u:<user _id>` for users, `x:<identifier>` for unknown names. */
  account: string;
  at: Date;
}

export interface LoginAttemptsStore {
  ensureIndexes(): Promise<void>;
  recordFailure(account: string, at: Date): Promise<void>;
  /** Failures since `since`, and the time of the latest one. */
  failuresSince(account: string, since: Date): Promise<{ count: number; latest: Date | null }>;
  /** Forget the account's failures (after a successful login). */
  reset(account: string): Promise<void>;
  /** Remove failures older than `before`. */
  sweep(before: Date): Promise<number>;
}

export function createLoginAttemptsStore(db: Db): LoginAttemptsStore {
  const failures: Collection<LoginFailureDocument> = db.collection<LoginFailureDocument>("login_failures");
  return {
    async ensureIndexes() {
      await ensureIndexes(failures, [
        { key: { account: 1, at: -1 }, name: "account_1_at_-1" },
        { key: { at: 1 }, name: "at_1" },
      ]);
    },
    async recordFailure(account, at) {
      await failures.insertOne({ account, at });
    },
    async failuresSince(account, since) {
      const query = { account, at: { $gt: since } };
      const [count, latest] = await Promise.all([
        failures.countDocuments(query),
        failures.findOne(query, { sort: { at: -1 }, projection: { at: 1 } }),
      ]);
      return { count, latest: latest?.at ?? null };
    },
    async reset(account) {
      await failures.deleteMany({ account });
    },
    async sweep(before) {
      return (await failures.deleteMany({ at: { $lt: before } })).deletedCount;
    },
  };
}
