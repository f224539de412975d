import type { Collection, Db, Filter, ObjectId } from "mongodb";
import { ensureIndexes } from "./database.js";

/**
 * A credential as stored: an API key or a login token. Only the SHA-256 of
 * the secret is kept; the secret itself is shown once, when it is made.
 */
export interface TokenDocument {
  /** Public id of the token (API keys show it; it is not secret). */
  _id: string;
  kind: "api_key" | "login";
  /** Hex SHA-256 of the secret; carries a unique index. */
  secret_hash: string;
  user_id: string;
  /** `_id` of the user document: a purged and re-created user id does not inherit tokens. */
  user_ref: ObjectId;
  name: string;
  /** Short right names (`USER_INFO`, `ADMIN_ALL`). */
  rights: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  /** User id of whoever created it (an admin granting a key to someone). */
  created_by: string;
}

/** Which of a user's tokens an operation is about. */
export interface TokenSelector {
  userRef: ObjectId;
  kind?: TokenDocument["kind"];
  /** Only tokens created strictly before this time. */
  createdBefore?: Date;
}

export interface TokensStore {
  ensureIndexes(): Promise<void>;
  insert(doc: TokenDocument): Promise<void>;
  findBySecretHash(secretHash: string): Promise<TokenDocument | null>;
  /** Record use, at most once a minute per token to spare the database. */
  touch(token: TokenDocument, now: Date): Promise<void>;
  /** Delete the selected tokens; returns how many. */
  deleteMany(selector: TokenSelector): Promise<number>;
  /** Delete expired tokens; returns how many. */
  sweepExpired(now: Date): Promise<number>;
}

const touchIntervalMs = 60_000;

function selectorQuery(selector: TokenSelector): Filter<TokenDocument> {
  const query: Filter<TokenDocument> = { user_ref: selector.userRef };
  if (selector.kind) query.kind = selector.kind;
  if (selector.createdBefore) query.created_at = { $lt: selector.createdBefore };
  return query;
}

export function createTokensStore(db: Db): TokensStore {
  const tokens: Collection<TokenDocument> = db.collection<TokenDocument>("tokens");
  return {
    async ensureIndexes() {
      await ensureIndexes(tokens, [
        { key: { secret_hash: 1 }, name: "secret_hash_1", unique: true },
        { key: { user_ref: 1, kind: 1, created_at: 1 }, name: "user_ref_1_kind_1_created_at_1" },
        { key: { user_id: 1, kind: 1, _id: 1 }, name: "user_id_1_kind_1__id_1" },
        { key: { expires_at: 1 }, name: "expires_at_1" },
      ]);
    },

    async insert(doc) {
      await tokens.insertOne(doc);
    },

    async findBySecretHash(secretHash) {
      return tokens.findOne({ secret_hash: secretHash });
    },

    async touch(token, now) {
      if (token.last_used_at && now.getTime() - token.last_used_at.getTime() < touchIntervalMs) return;
      // Last writer wins; a lost touch only makes last_used_at a minute older.
      await tokens.updateOne({ _id: token._id }, { $set: { last_used_at: now } });
    },

    async deleteMany(selector) {
      return (await tokens.deleteMany(selectorQuery(selector))).deletedCount;
    },

    async sweepExpired(now) {
      return (await tokens.deleteMany({ expires_at: { $ne: null, $lt: now } })).deletedCount;
    },
  };
}
