import type { Collection, Db, Filter, ObjectId } from "mongodb";
import { ensureIndexes, isDuplicateKeyError } from "./database.js";
import { freeTokenName, nameVariantPattern } from "./token-names.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

/**
 * A credential as stored: an API key or a login token. Only the SHA-256 of
 * the secret is kept; the secret itself is shown once, when it is made.
 */
export interface TokenDocument {
  /**
   * Hex SHA-256 of the secret. Keying by it makes the lookup on every
   * authenticated call an `_id` lookup: indexed on MongoDB, and the one
   * filter FerretDB 1.x evaluates in SQL rather than in Go.
   */
  _id: string;
  /** Public id of the token (API keys show it; it is not secret). */
  key_id: string;
  kind: "api_key" | "login";
  user_id: string;
  /** The user's incarnation (`ref`): a purged and re-created user id inherits no tokens. */
  user_ref: ObjectId;
  name: string;
  /** Short right names (`USER_INFO`, `ADMIN_ALL`). */
  rights: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  /** User id of whoever created it (an admin granting a key to someone). */
  created_by: string;
  /** Incremented by every change; see write-locks.ts. */
  revision: number;
}

/** One token of a user, by its public id or by its name (unique per user and kind). */
export type TokenKey = { key_id: string } | { name: string };

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
  /** One token of a user by id or name. */
  get(userRef: ObjectId, kind: TokenDocument["kind"], key: TokenKey): Promise<TokenDocument | null>;
  /**
   * The names of a user's tokens of one kind that are `base` or `base-<n>`:
   * what a new name derived from `base` must avoid.
   */
  namesLike(userRef: ObjectId, kind: TokenDocument["kind"], base: string): Promise<string[]>;
  /** A page of a user's tokens of one kind, newest first, and the total. */
  list(
    userRef: ObjectId,
    kind: TokenDocument["kind"],
    page: { skip: number; limit: number; maxTimeMS?: number },
  ): Promise<{ tokens: TokenDocument[]; total: number }>;
  /**
   * Change one token without losing concurrent changes. `change` returns the
   * next version or undefined for none. Missing: `missing()` is thrown.
   */
  update(
    userRef: ObjectId,
    kind: TokenDocument["kind"],
    key: TokenKey,
    change: (current: TokenDocument) => TokenDocument | undefined,
    errors: { missing: () => Error; busy: () => Error; nameTaken: () => Error },
  ): Promise<TokenDocument>;
  /** Delete one token; whether it existed. */
  delete(userRef: ObjectId, kind: TokenDocument["kind"], key: TokenKey): Promise<boolean>;
  /**
   * Delete expired login tokens; returns how many. Expired API keys stay,
   * listed as expired, until they are deleted (as in Conch).
   */
  sweepExpired(now: Date): Promise<number>;
  /**
   * Hand a user's tokens of one kind to another user (Merge); returns how
   * many. A token whose name the other user already uses gets a free
   * `<name>-<n>`.
   */
  reassign(fromRef: ObjectId, kind: TokenDocument["kind"], to: { userId: string; userRef: ObjectId }): Promise<number>;
  /** Point a user's tokens (by ref) and the tokens it created at its new id (Rename). */
  renameUser(ref: ObjectId, from: string, to: string): Promise<void>;
  /** Correct the `user_id` hint of one token whose user was renamed. */
  repoint(token: TokenDocument, userId: string): Promise<void>;
  /**
   * Which of these users hold an API key that has not expired at `now`
   * (their refs as hex strings): one query for a whole page of users.
   */
  withUsableApiKeys(userRefs: readonly ObjectId[], now: Date, maxTimeMS?: number): Promise<Set<string>>;
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
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);

  async function namesLike(userRef: ObjectId, kind: TokenDocument["kind"], base: string): Promise<string[]> {
    const found = await tokens
      .find({ user_ref: userRef, kind, name: { $regex: nameVariantPattern(base) } }, { projection: { name: 1 } })
      .toArray();
    return found.map((t) => t.name);
  }

  /** Rename one token, unless it was renamed or deleted meanwhile. */
  async function rename(token: TokenDocument, name: string): Promise<void> {
    const vanished = new Error(`token ${token.key_id} was deleted while being renamed`);
    await versionedUpdate<TokenDocument>({
      collection: tokens,
      writeLocks,
      scope: "tokens",
      load: () => tokens.findOne({ _id: token._id }),
      change: (current) => (current.name === token.name ? { ...current, name } : undefined),
      missing: () => vanished,
      busy: () => new Error(`token ${token.key_id} is busy`),
    }).catch((err) => {
      if (err !== vanished) throw err;
    });
  }

  /** Keep the oldest token of each name of a user and kind; rename the others `<name>-<n>`. */
  async function renameDuplicateNames(): Promise<void> {
    const groups = await tokens
      .aggregate<{ _id: { user_ref: ObjectId; kind: TokenDocument["kind"]; name: string }; count: number }>([
        { $group: { _id: { user_ref: "$user_ref", kind: "$kind", name: "$name" }, count: { $sum: 1 } } },
        { $match: { count: { $gt: 1 } } },
      ])
      .toArray();
    for (const { _id: group } of groups) {
      const same = await tokens
        .find({ user_ref: group.user_ref, kind: group.kind, name: group.name }, { sort: { created_at: 1, key_id: 1 } })
        .toArray();
      const taken = await namesLike(group.user_ref, group.kind, group.name);
      for (const token of same.slice(1)) {
        const name = freeTokenName(group.name, taken);
        taken.push(name);
        await rename(token, name);
      }
    }
  }

  return {
    async ensureIndexes() {
      await ensureIndexes(tokens, [
        { key: { key_id: 1 }, name: "key_id_1", unique: true },
        { key: { user_ref: 1, kind: 1, created_at: 1 }, name: "user_ref_1_kind_1_created_at_1" },
        { key: { expires_at: 1 }, name: "expires_at_1" },
      ]);
      // Names became unique per user and kind after tokens were stored:
      // later duplicates are renamed first. An older server still running
      // may add a duplicate in between, so the rename is tried again.
      for (let attempt = 1; ; attempt++) {
        await renameDuplicateNames();
        try {
          await ensureIndexes(tokens, [
            { key: { user_ref: 1, kind: 1, name: 1 }, name: "user_ref_1_kind_1_name_1", unique: true },
          ]);
          return;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    },

    async insert(doc) {
      await tokens.insertOne(doc);
    },

    async findBySecretHash(secretHash) {
      return tokens.findOne({ _id: secretHash });
    },

    async touch(token, now) {
      if (token.last_used_at && now.getTime() - token.last_used_at.getTime() < touchIntervalMs) return;
      // Last writer wins; a lost touch only makes last_used_at a minute older.
      await tokens.updateOne({ _id: token._id }, { $set: { last_used_at: now } });
    },

    async deleteMany(selector) {
      return (await tokens.deleteMany(selectorQuery(selector))).deletedCount;
    },

    async get(userRef, kind, key) {
      return tokens.findOne({ ...key, user_ref: userRef, kind });
    },

    namesLike,

    async withUsableApiKeys(userRefs, now, maxTimeMS) {
      if (userRefs.length === 0) return new Set();
      const found = await tokens
        .find(
          {
            user_ref: { $in: [...userRefs] },
            kind: "api_key",
            $or: [{ expires_at: null }, { expires_at: { $gt: now } }],
          },
          { projection: { _id: 0, user_ref: 1 }, maxTimeMS },
        )
        .toArray();
      return new Set(found.map((t) => t.user_ref.toHexString()));
    },

    async list(userRef, kind, page) {
      const query = { user_ref: userRef, kind };
      const [list, total] = await Promise.all([
        tokens
          .find(query, {
            sort: { created_at: -1, key_id: -1 },
            skip: page.skip,
            limit: page.limit,
            maxTimeMS: page.maxTimeMS,
          })
          .toArray(),
        tokens.countDocuments(query, { maxTimeMS: page.maxTimeMS }),
      ]);
      return { tokens: list, total };
    },

    async update(userRef, kind, key, change, errors) {
      const { after } = await versionedUpdate<TokenDocument>({
        collection: tokens,
        writeLocks,
        scope: "tokens",
        load: () => tokens.findOne({ ...key, user_ref: userRef, kind }),
        change,
        missing: errors.missing,
        busy: errors.busy,
        writeError: (err) => {
          throw isDuplicateKeyError(err) ? errors.nameTaken() : err;
        },
      });
      return after;
    },

    async delete(userRef, kind, key) {
      return (await tokens.deleteOne({ ...key, user_ref: userRef, kind })).deletedCount === 1;
    },

    async reassign(fromRef, kind, to) {
      let moved = 0;
      for (const token of await tokens.find({ user_ref: fromRef, kind }).toArray()) {
        const move = (name: string) =>
          tokens.updateOne(
            { _id: token._id, user_ref: fromRef },
            { $set: { user_id: to.userId, user_ref: to.userRef, name }, $inc: { revision: 1 } },
          );
        try {
          moved += (await move(token.name)).modifiedCount;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          moved += (await move(freeTokenName(token.name, await namesLike(to.userRef, kind, token.name)))).modifiedCount;
        }
      }
      return moved;
    },

    async renameUser(ref, from, to) {
      await tokens.updateMany({ user_ref: ref }, { $set: { user_id: to } });
      await tokens.updateMany({ created_by: from }, { $set: { created_by: to } });
    },

    async repoint(token, userId) {
      // Last writer wins; the field is a hint, and every writer writes the current id.
      await tokens.updateOne({ _id: token._id, user_ref: token.user_ref }, { $set: { user_id: userId } });
    },

    async sweepExpired(now) {
      return (await tokens.deleteMany({ kind: "login", expires_at: { $ne: null, $lt: now } })).deletedCount;
    },
  };
}
