import type { Collection, Db } from "mongodb";
import { changeScope } from "../call-scope/change-scope.js";
import { isDuplicateKeyError } from "./database.js";

/**
 * Write locks serialise writers without transactions. FerretDB 1.x applies an
 * update by reading the document, changing it in memory and writing it back,
 * so two concurrent conditional updates can both "match" and one change is
 * lost. An insert into a unique index, though, is atomic on every backend:
 * exactly one of several concurrent inserts of the same `_id` succeeds.
 *
 * A writer that wants to move a document from revision n to n+1 first takes
 * the lock `<scope>:<id>@<n+1>` (one lock per revision, so a lease rather
 * than a mutex); only the winner writes. Locks are never released (a
 * revision is only ever produced once); they are swept after a day.
 */
export interface WriteLockDocument {
  _id: string;
  created_at: Date;
  /** The event intent of the change that took it (see change-scope.ts). */
  intent?: string;
}

/**
 * How long a lock may stay without its write landing before others treat
 * its holder as dead. Far above any request deadline (which bounds a live
 * holder) so that a slow holder is never overtaken.
 */
export const writeLockLeaseMs = 60_000;

/** How long locks are kept before the sweeper removes them. */
export const writeLockRetentionMs = 24 * 3_600_000;

/** The locks' collection, stored as `claims` (their name before), so that existing databases keep theirs. */
export function writeLocksCollection(db: Db): Collection<WriteLockDocument> {
  return db.collection<WriteLockDocument>("claims");
}

/** Try to take the lock `key`; true if this caller won it. */
export async function takeWriteLock(locks: Collection<WriteLockDocument>, key: string): Promise<boolean> {
  try {
    const intent = changeScope()?.intent;
    await locks.insertOne(intent ? { _id: key, created_at: new Date(), intent } : { _id: key, created_at: new Date() });
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

/**
 * Remove the lock `key` if its holder is presumed dead (older than the
 * lease), so that the revision it blocks can be locked again. Returns
 * whether it was removed.
 */
export async function breakStaleWriteLock(locks: Collection<WriteLockDocument>, key: string): Promise<boolean> {
  const result = await locks.deleteOne({ _id: key, created_at: { $lt: new Date(Date.now() - writeLockLeaseMs) } });
  return result.deletedCount > 0;
}

/**
 * Whether the change of event intent `intent` landed, judged by the locks
 * it took: true if one of them produced its revision, false if it took
 * locks and none did, undefined if it took none (the change was not a
 * versioned update).
 */
export async function writeLocksLanded(
  locks: Collection<WriteLockDocument>,
  intent: string,
  revisionOf: (scope: string, id: string) => Promise<number | null | undefined>,
): Promise<boolean | undefined> {
  const taken = await locks.find({ intent }).toArray();
  let judged = false;
  for (const lock of taken) {
    const m = /^([^:]+):(.*)@(\d+)$/.exec(lock._id);
    if (!m) continue;
    const revision = await revisionOf(m[1] as string, m[2] as string);
    if (revision === undefined) continue;
    judged = true;
    // A document gone since is taken as changed: a lock that stands was
    // either written or will block its revision until it is broken.
    if (revision === null || revision >= Number(m[3])) return true;
  }
  return judged ? false : undefined;
}

/** Remove locks older than the retention period. */
export async function sweepWriteLocks(locks: Collection<WriteLockDocument>): Promise<number> {
  const result = await locks.deleteMany({ created_at: { $lt: new Date(Date.now() - writeLockRetentionMs) } });
  return result.deletedCount;
}

/** Wait a little, more on each attempt, with jitter. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A document written only through versionedUpdate. */
export interface Versioned {
  _id: unknown;
  revision: number;
}

export interface VersionedUpdate<T extends Versioned> {
  collection: Collection<T>;
  writeLocks: Collection<WriteLockDocument>;
  /** Names the locks: `<scope>:<lockId>@<revision>`. */
  scope: string;
  /** Identity of the document in lock names; default its `_id`. */
  lockId?: (current: T) => string;
  /** The current document, or null when there is none. */
  load(): Promise<T | null>;
  /** The next document (without `revision`), or undefined for no change. Throwing aborts. */
  change(current: T): T | undefined;
  /** Called when the document is missing. */
  missing(): Error;
  /**
   * When set, a lost race fails with this error instead of being retried
   * (the caller asked for a change relative to what it read, as with etags).
   */
  conflict?: () => Error;
  /** Error when retries run out. */
  busy(): Error;
  /**
   * Wraps the write (lock + replace), for invariants that span documents
   * (the last-admin guard). Must call `write` and return its result.
   */
  around?: (current: T, next: T, write: () => Promise<boolean>) => Promise<boolean>;
  /** Maps errors of the replace (duplicate keys) to API errors. */
  writeError?: (err: unknown, current: T, next: T) => never | Promise<never>;
}

/**
 * Change one document without losing concurrent changes, on any backend:
 * read it, compute the next version, lock revision n+1 (only one writer
 * can), then replace it. A writer that loses re-reads and tries again.
 */
export async function versionedUpdate<T extends Versioned>(u: VersionedUpdate<T>): Promise<{ before: T; after: T }> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const current = await u.load();
    if (!current) throw u.missing();
    const changed = u.change({ ...current });
    if (!changed) return { before: current, after: current };
    const next = { ...changed, _id: current._id, revision: current.revision + 1 } as T;
    const write = async (): Promise<boolean> => {
      const key = `${u.scope}:${u.lockId ? u.lockId(current) : String(current._id)}@${next.revision}`;
      const lockedAt = Date.now();
      if (!(await takeWriteLock(u.writeLocks, key))) {
        await breakStaleWriteLock(u.writeLocks, key);
        return false;
      }
      // A holder that took this long may have been declared dead by others.
      if (Date.now() - lockedAt > writeLockLeaseMs / 2) return false;
      try {
        const filter = { _id: current._id, revision: current.revision } as unknown as Parameters<
          Collection<T>["replaceOne"]
        >[0];
        const result = await u.collection.replaceOne(filter, next);
        return result.matchedCount === 1;
      } catch (err) {
        // The write failed (a unique index said no): the revision was not
        // produced, so give it back for the next writer.
        await u.writeLocks.deleteOne({ _id: key });
        if (u.writeError) return u.writeError(err, current, next);
        throw err;
      }
    };
    const written = u.around ? await u.around(current, next, write) : await write();
    if (written) return { before: current, after: next };
    if (u.conflict) throw u.conflict();
    await backoff(attempt);
  }
  throw u.busy();
}
