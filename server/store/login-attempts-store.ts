import type { Collection, Db } from "mongodb";
import { ensureIndexes, isDuplicateKeyError } from "./database.js";

/**
 * One counted login attempt. An attempt is counted before its password is
 * checked, by inserting the account's next sequence number: the `_id`
 * (`<account>#<seq>`) is unique, so of several concurrent attempts that read
 * the same state exactly one is counted and the others read again. That is
 * the one atomic step FerretDB 1.x and MongoDB share (FerretDB loses
 * concurrent `$inc`s); a successful login deletes the account's attempts.
 */
interface LoginAttemptDocument {
  _id: string;
  /** The account: `u:<user ref>`. Unknown names have no account and store nothing. */
  account: string;
  /** 1, 2, ... per account, restarting after a successful login. */
  seq: number;
  at: Date;
}

/** What the store knows about an account's recent attempts. */
export interface RecentAttempts {
  /** Counted attempts since the given time (at most the given cap). */
  count: number;
  /** Time of the newest attempt, or null when there is none. */
  latest: Date | null;
  /** Sequence number of the newest attempt (0 when none is stored). */
  seq: number;
}

export interface LoginAttemptsStore {
  ensureIndexes(): Promise<void>;
  /** The account's attempts since `since`, counting no further than `cap`. */
  recent(account: string, since: Date, cap: number): Promise<RecentAttempts>;
  /** Count attempt number `seq`; false if another attempt took that number first. */
  claim(account: string, seq: number, at: Date): Promise<boolean>;
  /** Forget the account's attempts (after a successful login). */
  reset(account: string): Promise<void>;
  /** Remove attempts older than `before`. */
  sweep(before: Date): Promise<number>;
}

export function createLoginAttemptsStore(db: Db): LoginAttemptsStore {
  const attempts: Collection<LoginAttemptDocument> = db.collection<LoginAttemptDocument>("login_attempts");
  return {
    async ensureIndexes() {
      await ensureIndexes(attempts, [
        { key: { account: 1, seq: -1 }, name: "account_1_seq_-1" },
        { key: { account: 1, at: -1 }, name: "account_1_at_-1" },
        { key: { at: 1 }, name: "at_1" },
      ]);
      // Before attempts were counted up front, failures (unknown names too)
      // lived here; they are not carried over.
      await db.dropCollection("login_failures").catch(() => false);
    },
    async recent(account, since, cap) {
      // The newest first, then the count: every attempt numbered up to the
      // newest is then in the count, so the next number is only taken by an
      // attempt that saw all those before it. (Read in parallel, the count
      // could predate the newest and let a burst past the limit.)
      const newest = await attempts.findOne(
        { account },
        { sort: { account: 1, seq: -1 }, projection: { seq: 1, at: 1 } },
      );
      const count = await attempts.countDocuments({ account, at: { $gt: since } }, { limit: cap });
      return { count, latest: newest?.at ?? null, seq: newest?.seq ?? 0 };
    },
    async claim(account, seq, at) {
      try {
        await attempts.insertOne({ _id: `${account}#${seq}`, account, seq, at });
        return true;
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
    },
    async reset(account) {
      await attempts.deleteMany({ account });
    },
    async sweep(before) {
      return (await attempts.deleteMany({ at: { $lt: before } })).deletedCount;
    },
  };
}
