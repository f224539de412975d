import { randomBytes } from "node:crypto";
import type { Collection, Db, Document, Filter } from "mongodb";
import { ObjectId } from "mongodb";
import {
  errConcurrentUpdate,
  errEmailTaken,
  errEtagMismatch,
  errUserBusy,
  errUserIdTaken,
  errUserNotFound,
} from "../../shared/errors.js";
import { duplicateKeyField, ensureIndexes, isDuplicateKeyError } from "./database.js";
import { systemUserId, type UserDocument, type UserField, type UserRef } from "./user-documents.js";
import { filterQuery, type UserFilter } from "./user-filters.js";
import { type ListUsersOptions, listUsers, type UserPage, userProjection } from "./user-lists.js";
import {
  backoff,
  breakStaleWriteLock,
  takeWriteLock,
  versionedUpdate,
  type WriteLockDocument,
  writeLocksCollection,
} from "./write-locks.js";

export type { ListUsersOptions, UserOrderField, UserPage } from "./user-lists.js";

/** A change to one user: given the current document, the next one, or undefined for no change. */
export type UserChange = (current: UserDocument) => UserDocument | undefined;

export interface UpdateOptions {
  /** Who makes the change (recorded as `updated_by`): a user id or `system`. */
  actor: string;
  /** Apply only if the user's etag is still this. */
  etag?: string;
  /** Apply to a soft-deleted user too (restore). */
  includeDeleted?: boolean;
  maxTimeMS?: number;
  /**
   * The change is a step of the Rename or Merge the user is journaled for.
   * Other changes to a user in the middle of one are refused (USER_BUSY,
   * retryable), so that none is acknowledged and then lost by the operation.
   */
  operation?: boolean;
  /** A rule on the other users that this change must keep (see OthersRemain). */
  guard?: (current: UserDocument, next: UserDocument) => OthersRemain | undefined;
}

/**
 * A rule that spans users, kept atomically with a change: at least one
 * other user matching `others` must remain. The store only enforces it;
 * which changes it applies to, and what breaking it means, is the caller's.
 */
export interface OthersRemain {
  /** Names the lock that serialises every change this rule guards. */
  lock: string;
  /** The users of which one besides the changed user must remain. */
  others: UserFilter;
  /** The error when none would. */
  otherwise: (target: UserDocument) => Error;
  /** The error when the lock stays taken by others' changes. */
  busy: () => Error;
}

export interface UsersStore {
  ensureIndexes(): Promise<void>;
  /** Insert a new user; fails with USER_ID_TAKEN or EMAIL_TAKEN. */
  insert(
    doc: Omit<
      UserDocument,
      "_id" | "ref" | "etag" | "revision" | "updated_by" | "merged_into" | "merge_redirect" | "operation"
    >,
  ): Promise<UserDocument>;
  /** One user by id, with only `fields` (plus the always-returned ones), or null. */
  get(
    userId: string,
    fields: readonly UserField[],
    options?: { includeDeleted?: boolean; withRef?: boolean },
  ): Promise<Partial<UserDocument> | null>;
  /** The whole stored document, for code that needs hashes and revisions. */
  getDocument(userId: string, options?: { includeDeleted?: boolean }): Promise<UserDocument | null>;
  /**
   * The user an incarnation reference names, or null once it is purged.
   * Credentials hold refs, not ids, so that a rename cannot strand them;
   * while a rename is under way (two documents share the ref) the new id
   * answers.
   */
  getDocumentByRef(ref: UserRef, options?: { includeDeleted?: boolean }): Promise<UserDocument | null>;
  /** The whole stored document of an active (or, asked so, deleted) user by email (case-insensitive). */
  getDocumentByEmail(email: string, options?: { includeDeleted?: boolean }): Promise<UserDocument | null>;
  /** Active users by ids and by emails, with only `fields` (and `email_key`, and `ref` if asked). */
  getMany(
    userIds: readonly string[],
    emails: readonly string[],
    fields: readonly UserField[],
    options?: { withRef?: boolean },
  ): Promise<Partial<UserDocument>[]>;
  list(options: ListUsersOptions): Promise<UserPage>;
  /** Apply `change` without losing concurrent changes; see write-locks.ts. */
  update(userId: string, change: UserChange, options: UpdateOptions): Promise<UserDocument>;
  /** Remove a user for good. Returns the removed document. */
  purge(
    userId: string,
    options?: { guard?: (current: UserDocument) => OthersRemain | undefined },
  ): Promise<UserDocument>;
  /**
   * Whether any user other than the system user exists, for the first-start
   * bootstrap. One document at most: FerretDB counts by reading them all.
   */
  any(): Promise<boolean>;
  /**
   * Insert the copy of a user under its new id (Rename). Returns false if
   * that copy is already there (a retry), and fails with USER_ID_TAKEN when
   * another user holds the id.
   */
  insertRenamed(doc: UserDocument): Promise<boolean>;
  /** Remove the old document of a renamed user (only that incarnation). */
  removeRenamed(userId: string, ref: UserDocument["ref"]): Promise<void>;
  /** Point audit fields (`created_by`, `updated_by`, `merged_into`) at a new id. */
  renameAuditReferences(from: string, to: string): Promise<void>;
}

/**
 * A new etag: 12 base64url characters, never starting with `-`, so that
 * `roster ... --etag <etag>` is never read as a flag.
 */
export function newEtag(): string {
  const etag = randomBytes(9).toString("base64url");
  return etag.startsWith("-") ? `_${etag.slice(1)}` : etag;
}

export function createUsersStore(db: Db): UsersStore {
  const users: Collection<UserDocument> = db.collection<UserDocument>("users");
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);
  const locks = db.collection<{ _id: string; revision: number }>("locks");

  /**
   * Find a user by id. The filter is `_id` alone: FerretDB 1.x pushes that
   * down into SQL (about 0.04 ms per stored document, measured) while any
   * other field is filtered in Go (about 0.35 ms per document), so the
   * deleted check happens here instead. MongoDB uses the `_id` index either way.
   *
   * Lookups by a unique key send no `maxTimeMS`: they are one index seek,
   * the call's deadline still bounds the wait (its abort signal, see
   * database.ts), and FerretDB spends nearly twice the CPU on a query that
   * carries one (0.43 against 0.75-0.84 ms per findOne, measured).
   */
  async function byId<T extends Document = UserDocument>(
    userId: string,
    options: { includeDeleted?: boolean; projection?: Document } = {},
  ): Promise<T | null> {
    const doc = await users.findOne<T & { deleted_at?: Date | null }>(
      { _id: userId },
      { projection: options.projection && { ...options.projection, deleted_at: 1 } },
    );
    if (!doc || (!options.includeDeleted && doc.deleted_at)) return null;
    if (options.projection && !options.projection.deleted_at) delete doc.deleted_at;
    return doc;
  }

  async function classifyDuplicate(err: unknown, userId: string, emailKey: string, isNew: boolean): Promise<never> {
    if (!isDuplicateKeyError(err)) throw err;
    let field = duplicateKeyField(err);
    // FerretDB does not say which index: for a new user, see whether the id exists.
    if (!field)
      field = isNew && (await users.findOne({ _id: userId }, { projection: { _id: 1 } })) ? "_id" : "email_key";
    if (field === "_id" || field === "user_id") throw errUserIdTaken({ user_id: userId }, err);
    throw errEmailTaken({ email: emailKey }, err);
  }

  /**
   * Run `perform` while holding the lock `guard.lock` names, after checking
   * that a user other than `target` still matches `guard.others`. Guarded
   * changes under one lock are thereby serialised: two of them cannot each
   * see the other's user and together leave none.
   */
  async function whileOthersRemain<T>(
    target: UserDocument,
    guard: OthersRemain,
    perform: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const lock = await locks.findOne({ _id: guard.lock });
      const revision = lock?.revision ?? 0;
      const key = `${guard.lock}@${revision + 1}`;
      if (!(await takeWriteLock(writeLocks, key))) {
        if (!(await breakStaleWriteLock(writeLocks, key))) await backoff(attempt);
        continue;
      }
      try {
        const others = await users.countDocuments({ $and: [filterQuery(guard.others), { _id: { $ne: target._id } }] });
        if (others === 0) throw guard.otherwise(target);
        return await perform();
      } finally {
        await locks.updateOne({ _id: guard.lock }, { $max: { revision: revision + 1 } }, { upsert: true });
      }
    }
    throw guard.busy();
  }

  return {
    async ensureIndexes() {
      // Every list, search and export filters on deleted_at and orders by one
      // field and the id, so each ordering has an index led by deleted_at.
      // The one in id order (the default) also holds the fields searches and
      // filters test, so that they are tested on index entries and only
      // matching users are read (MongoDB and the embedded database alike).
      await ensureIndexes(
        users,
        [
          { key: { email_key: 1 }, name: "email_key_1", unique: true },
          // Not unique: a user briefly has two documents while it is renamed.
          { key: { ref: 1 }, name: "ref_1" },
          {
            key: { deleted_at: 1, _id: 1, name: 1, email_key: 1, description: 1, state: 1, admin: 1 },
            name: "deleted_at_1__id_1_search",
          },
          { key: { deleted_at: 1, name: 1, _id: 1 }, name: "deleted_at_1_name_1__id_1" },
          { key: { deleted_at: 1, email_key: 1, _id: 1 }, name: "deleted_at_1_email_key_1__id_1" },
          { key: { deleted_at: 1, state: 1, _id: 1 }, name: "deleted_at_1_state_1__id_1" },
          { key: { deleted_at: 1, admin: 1, _id: 1 }, name: "deleted_at_1_admin_1__id_1" },
          { key: { deleted_at: 1, created_at: 1, _id: 1 }, name: "deleted_at_1_created_at_1__id_1" },
        ],
        {
          retired: ["deleted_at_1__id_1", "name_1__id_1", "state_1__id_1", "admin_1__id_1", "created_at_1__id_1"],
        },
      );
      await ensureIndexes(writeLocks, [
        { key: { created_at: 1 }, name: "created_at_1" },
        { key: { intent: 1 }, name: "intent_1" },
      ]);
    },

    async insert(init) {
      const doc: UserDocument = {
        _id: init.user_id,
        ref: new ObjectId(),
        ...init,
        updated_by: init.created_by,
        merged_into: "",
        merge_redirect: false,
        operation: null,
        etag: newEtag(),
        revision: 1,
      };
      try {
        await users.insertOne(doc);
      } catch (err) {
        await classifyDuplicate(err, doc.user_id, doc.email_key, true);
      }
      return doc;
    },

    get(userId, fields, options = {}) {
      return byId<Partial<UserDocument>>(userId, {
        ...options,
        projection: userProjection(fields, options.withRef ? ["ref"] : []),
      });
    },

    getDocument(userId, options = {}) {
      return byId(userId, options);
    },

    async getDocumentByRef(ref, options = {}) {
      const docs = await users.find({ ref }).toArray();
      const live = docs.filter((d) => options.includeDeleted || !d.deleted_at);
      return (
        live.find((d) => d.operation?.kind === "renamed_from") ?? live.find((d) => !d.operation) ?? live[0] ?? null
      );
    },

    async getDocumentByEmail(email, options = {}) {
      const query: Filter<UserDocument> = { email_key: email.toLowerCase() };
      if (!options.includeDeleted) query.deleted_at = null;
      return users.findOne(query);
    },

    async getMany(userIds, emails, fields, options = {}) {
      // Two lookups, each on its unique index, with the deleted check done
      // here: a query that also names `deleted_at` may be planned on the
      // deleted_at index, whose one value for every active user selects all.
      const find = (query: Filter<UserDocument>) =>
        // No maxTimeMS on unique-key lookups: see byId.
        users
          .find(query, {
            projection: userProjection(fields, ["email_key", "deleted_at", ...(options.withRef ? ["ref"] : [])]),
          })
          .toArray();
      const [byIds, byEmails] = await Promise.all([
        userIds.length > 0 ? find({ _id: { $in: [...userIds] } }) : [],
        emails.length > 0 ? find({ email_key: { $in: emails.map((e) => e.toLowerCase()) } }) : [],
      ]);
      const found = new Map<string, Partial<UserDocument>>();
      for (const doc of [...byIds, ...byEmails]) {
        if (doc.deleted_at || !doc.user_id) continue;
        const { deleted_at: _, ...rest } = doc;
        found.set(doc.user_id, rest);
      }
      return [...found.values()];
    },

    list(options) {
      return listUsers(users, options);
    },

    async update(userId, change, options) {
      const { after } = await versionedUpdate<UserDocument>({
        collection: users,
        writeLocks,
        scope: "users",
        lockId: (current) => current.ref.toHexString(),
        load: () => byId(userId, { includeDeleted: options.includeDeleted }),
        change(current) {
          if (options.etag && options.etag !== current.etag) throw errEtagMismatch({ user_id: userId });
          if (current.operation && !options.operation) {
            throw errUserBusy({ user_id: userId, operation: current.operation.kind });
          }
          const next = change(current);
          return (
            next && { ...next, user_id: current.user_id, ref: current.ref, etag: newEtag(), updated_by: options.actor }
          );
        },
        missing: () => errUserNotFound({ user_id: userId }),
        conflict: options.etag ? () => errEtagMismatch({ user_id: userId }) : undefined,
        busy: () => errConcurrentUpdate({ user_id: userId }),
        around: (current, next, write) => {
          const guard = options.guard?.(current, next);
          return guard ? whileOthersRemain(current, guard, write) : write();
        },
        writeError: (err, current, next) => classifyDuplicate(err, current.user_id, next.email_key, false),
      });
      return after;
    },

    async purge(userId, options = {}) {
      for (let attempt = 0; attempt < 30; attempt++) {
        const current = await byId(userId, { includeDeleted: true });
        if (!current) throw errUserNotFound({ user_id: userId });
        if (current.operation) throw errUserBusy({ user_id: userId, operation: current.operation.kind });
        const remove = async () =>
          (await users.deleteOne({ _id: current._id, revision: current.revision })).deletedCount === 1;
        const guard = options.guard?.(current);
        const removed = guard ? await whileOthersRemain(current, guard, remove) : await remove();
        if (removed) return current;
        await backoff(attempt);
      }
      throw errConcurrentUpdate({ user_id: userId });
    },

    async any() {
      return (await users.findOne({ _id: { $ne: systemUserId } }, { projection: { _id: 1 } })) !== null;
    },

    async insertRenamed(doc) {
      try {
        await users.insertOne(doc);
        return true;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        const holder = await users.findOne({ _id: doc._id });
        if (holder?.ref.equals(doc.ref)) return false;
        throw errUserIdTaken({ user_id: doc._id }, err);
      }
    },

    async removeRenamed(userId, ref) {
      await users.deleteOne({ _id: userId, ref });
    },

    async renameAuditReferences(from, to) {
      for (const field of ["created_by", "updated_by", "merged_into"] as const) {
        await users.updateMany({ [field]: from }, { $set: { [field]: to } });
      }
    },
  };
}
