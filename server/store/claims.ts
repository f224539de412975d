import type { Collection, Db } from "mongodb";
import { isDuplicateKeyError } from "./database.js";

/**
 * Claims serialise writers without transactions. FerretDB 1.x applies an
 * update by reading the document, changing it in memory and writing it back,
 * so two concurrent conditional updates can both "match" and one change is
 * lost. An insert into a unique index, though, is atomic on every backend:
 * exactly one of several concurrent inserts of the same `_id` succeeds.
 *
 * A writer that wants to move a document from revision n to n+1 first claims
 * `<scope>:<id>@<n+1>`; only the winner writes. Claims are never released
 * (a revision is only ever produced once); they are swept after a day.
 */
export interface ClaimDocument {
  _id: string;
  created_at: Date;
}

/**
 * How long a claim may stay without its write landing before others treat
 * its holder as dead. Far above any request deadline (which bounds a live
 * holder) so that a slow holder is never overtaken.
 */
export const claimLeaseMs = 60_000;

/** How long claims are kept before the sweeper removes them. */
export const claimRetentionMs = 24 * 3_600_000;

export function claimsCollection(db: Db): Collection<ClaimDocument> {
  return db.collection<ClaimDocument>("claims");
}

/** Try to claim `key`; true if this caller won it. */
export async function tryClaim(claims: Collection<ClaimDocument>, key: string): Promise<boolean> {
  try {
    await claims.insertOne({ _id: key, created_at: new Date() });
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

/**
 * Remove the claim `key` if its holder is presumed dead (older than the
 * lease), so that the revision it blocks can be claimed again. Returns
 * whether it was removed.
 */
export async function breakStaleClaim(claims: Collection<ClaimDocument>, key: string): Promise<boolean> {
  const result = await claims.deleteOne({ _id: key, created_at: { $lt: new Date(Date.now() - claimLeaseMs) } });
  return result.deletedCount > 0;
}

/** Remove claims older than the retention period. */
export async function sweepClaims(claims: Collection<ClaimDocument>): Promise<number> {
  const result = await claims.deleteMany({ created_at: { $lt: new Date(Date.now() - claimRetentionMs) } });
  return result.deletedCount;
}

/** Wait a little, more on each attempt, with jitter. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
