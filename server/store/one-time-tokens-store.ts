import type { Collection, Db, ObjectId } from "mongodb";
import { ensureIndexes, isDuplicateKeyError } from "./database.js";

/** What a one-time token lets its holder do once. */
export type OneTimePurpose = "password_reset" | "email_validation";

/**
 * A one-time token of a self-service link (password reset, email
 * validation). Only the SHA-256 of the secret is stored.
 */
export interface OneTimeTokenDocument {
  /** Hex SHA-256 of the secret: looking a link up is an `_id` lookup. */
  _id: string;
  purpose: OneTimePurpose;
  /** The user's incarnation: a purged and re-created id inherits no link. */
  user_ref: ObjectId;
  /** Hint for messages; the ref decides. */
  user_id: string;
  /** The address the link was sent to (and, for a validation, the one it proves). */
  email: string;
  created_at: Date;
  expires_at: Date;
  /** Set once, by the one use that won (see `consume`). */
  used_at: Date | null;
}

export interface OneTimeTokensStore {
  ensureIndexes(): Promise<void>;
  insert(doc: OneTimeTokenDocument): Promise<void>;
  get(hash: string): Promise<OneTimeTokenDocument | null>;
  /**
   * Use the token: true for exactly one of any number of concurrent callers.
   * The winner is decided by an insert into a unique `_id` (atomic on
   * FerretDB 1.x too, whose conditional updates are not), then `used_at` is
   * stamped so that later readers see the link as used.
   */
  consume(hash: string, now: Date): Promise<boolean>;
  /** Mark the user's other unused tokens of `purpose` used (a newer one was used). */
  retireOthers(userRef: ObjectId, purpose: OneTimePurpose, keep: string, now: Date): Promise<number>;
  /** Remove tokens (and their use markers) that expired before `before`; returns how many. */
  sweep(before: Date): Promise<number>;
}

interface UseDocument {
  /** `use:<hash>`. */
  _id: string;
  expires_at: Date;
}

export function createOneTimeTokensStore(db: Db): OneTimeTokensStore {
  const tokens: Collection<OneTimeTokenDocument> = db.collection<OneTimeTokenDocument>("one_time_tokens");
  const uses: Collection<UseDocument> = db.collection<UseDocument>("one_time_token_uses");
  return {
    async ensureIndexes() {
      await ensureIndexes(tokens, [
        { key: { user_ref: 1, purpose: 1 }, name: "user_ref_1_purpose_1" },
        { key: { expires_at: 1 }, name: "expires_at_1" },
      ]);
      await ensureIndexes(uses, [{ key: { expires_at: 1 }, name: "expires_at_1" }]);
    },
    async insert(doc) {
      await tokens.insertOne(doc);
    },
    get: (hash) => tokens.findOne({ _id: hash }),
    async consume(hash, now) {
      const doc = await tokens.findOne({ _id: hash }, { projection: { expires_at: 1, used_at: 1 } });
      if (!doc || doc.used_at) return false;
      try {
        await uses.insertOne({ _id: `use:${hash}`, expires_at: doc.expires_at });
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
      // Only the winner writes, so this plain update loses nothing.
      await tokens.updateOne({ _id: hash }, { $set: { used_at: now } });
      return true;
    },
    async retireOthers(userRef, purpose, keep, now) {
      const result = await tokens.updateMany(
        { user_ref: userRef, purpose, used_at: null, _id: { $ne: keep } },
        { $set: { used_at: now } },
      );
      return result.modifiedCount;
    },
    async sweep(before) {
      const removed = (await tokens.deleteMany({ expires_at: { $lt: before } })).deletedCount;
      await uses.deleteMany({ expires_at: { $lt: before } });
      return removed;
    },
  };
}
