import { randomBytes } from "node:crypto";
import type { Collection, Db, Document, Filter, Sort } from "mongodb";
import { ObjectId } from "mongodb";
import {
  errAdminChangeBusy,
  errConcurrentUpdate,
  errEmailTaken,
  errEtagMismatch,
  errLastAdmin,
  errSystemUser,
  errUserBusy,
  errUserIdTaken,
  errUserNotFound,
} from "../../shared/errors.js";
import { duplicateKeyField, ensureIndexes, isDuplicateKeyError } from "./database.js";
import { conditionQuery, type UserCondition } from "./user-conditions.js";
import {
  isActiveAdmin,
  type StateName,
  systemUserId,
  type UserDocument,
  type UserField,
  type UserRef,
} from "./user-documents.js";
import {
  backoff,
  breakStaleWriteLock,
  takeWriteLock,
  versionedUpdate,
  type WriteLockDocument,
  writeLocksCollection,
} from "./write-locks.js";

/** Fields users can be ordered by, with the stored field that sorts them. */
export const userOrderFields = {
  user_id: "_id",
  name: "name",
  primary_email_address: "email_key",
  state: "state",
  admin: "admin",
  created_at: "created_at",
} as const;

export type UserOrderField = keyof typeof userOrderFields;

/** Which users a list or search selects. Text filters match literally. */
export interface UserFilter {
  /** Select soft-deleted users instead of active ones. */
  deleted: boolean;
  query?: string;
  idContains?: string;
  nameContains?: string;
  descriptionContains?: string;
  emailContains?: string;
  states?: StateName[];
  admin?: boolean;
  attributesContain?: Record<string, string>;
  /** A condition tree (SCIM filters), applied besides the fields above. */
  condition?: UserCondition;
  /** Also select the built-in system user (left out by default). */
  withSystem?: boolean;
}

/** Options of one page of a list. */
export interface ListUsersOptions {
  filter: UserFilter;
  order: { field: UserOrderField; descending: boolean };
  /** Keyset position: return users after this one. */
  after?: { value: unknown; userId: string };
  skip: number;
  limit: number;
  /** Fields to fetch; the always-returned ones are added. */
  fields: readonly UserField[];
  /**
   * `exact` counts the matches; `estimate` reads unfiltered counts from
   * collection metadata; `none` skips counting (the caller knows the total).
   */
  count: "exact" | "estimate" | "none";
  maxTimeMS?: number;
  /** Also fetch each user's `ref` (to look up what is bound to it, such as tokens). */
  withRef?: boolean;
}

/** One page: the users, each one's sort value (for keyset tokens), the total, and whether more follow. */
export interface UserPage {
  users: Partial<UserDocument>[];
  sortValues: unknown[];
  total: number;
  more: boolean;
}

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
}

/** Always-returned fields. */
export const alwaysReturnedFields = ["user_id", "created_at", "updated_at"] as const;

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
  purge(userId: string): Promise<UserDocument>;
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

export function newEtag(): string {
  return randomBytes(9).toString("base64url");
}

/** Escape text so that `$regex` matches it literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function contains(text: string): Document {
  return { $regex: escapeRegex(text), $options: "i" };
}

/** The query that selects the users `filter` describes (lists, searches and exports). */
export function filterQuery(filter: UserFilter): Filter<UserDocument> {
  const and: Filter<UserDocument>[] = [filter.deleted ? { deleted_at: { $ne: null } } : { deleted_at: null }];
  if (!filter.withSystem) and.push({ _id: { $ne: systemUserId } });
  if (filter.query) {
    and.push({
      $or: [{ _id: contains(filter.query) }, { name: contains(filter.query) }, { description: contains(filter.query) }],
    });
  }
  if (filter.idContains) and.push({ _id: contains(filter.idContains) });
  if (filter.nameContains) and.push({ name: contains(filter.nameContains) });
  if (filter.descriptionContains) and.push({ description: contains(filter.descriptionContains) });
  if (filter.emailContains) and.push({ email_key: contains(filter.emailContains.toLowerCase()) });
  if (filter.states && filter.states.length > 0) and.push({ state: { $in: filter.states } });
  if (filter.admin !== undefined) and.push({ admin: filter.admin });
  for (const [key, value] of Object.entries(filter.attributesContain ?? {})) {
    // Keys are validated by the registry (no `$`, no `.`), so this path is safe.
    and.push({ [`attributes.${key}`]: contains(value) } as Filter<UserDocument>);
  }
  if (filter.condition) and.push(conditionQuery(filter.condition));
  return and.length === 1 ? (and[0] as Filter<UserDocument>) : { $and: and };
}

function isUnfiltered(filter: UserFilter): boolean {
  return (
    !filter.deleted &&
    !filter.query &&
    !filter.idContains &&
    !filter.nameContains &&
    !filter.descriptionContains &&
    !filter.emailContains &&
    !filter.states?.length &&
    filter.admin === undefined &&
    Object.keys(filter.attributesContain ?? {}).length === 0 &&
    !filter.condition
  );
}

function projection(fields: readonly string[], extra: readonly string[] = []): Document {
  const p: Document = { _id: 0 };
  for (const f of [...alwaysReturnedFields, ...fields, ...extra]) p[f] = 1;
  return p;
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
   * Run `perform` while holding the admin-set lock, after checking that at
   * least one approved admin other than `target` remains. Changes that take
   * an admin away are thereby serialised, so two admins demoting each other
   * at once cannot leave none.
   */
  async function guardLastAdmin<T>(target: UserDocument, perform: () => Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const lock = await locks.findOne({ _id: "admins" });
      const revision = lock?.revision ?? 0;
      const key = `admins@${revision + 1}`;
      if (!(await takeWriteLock(writeLocks, key))) {
        if (!(await breakStaleWriteLock(writeLocks, key))) await backoff(attempt);
        continue;
      }
      try {
        const others = await users.countDocuments({
          _id: { $ne: target._id },
          admin: true,
          state: "APPROVED",
          deleted_at: null,
        });
        if (others === 0) throw errLastAdmin({ user_id: target.user_id });
        return await perform();
      } finally {
        await locks.updateOne({ _id: "admins" }, { $max: { revision: revision + 1 } }, { upsert: true });
      }
    }
    throw errAdminChangeBusy({});
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
        projection: projection(fields, options.withRef ? ["ref"] : []),
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
            projection: projection(fields, ["email_key", "deleted_at", ...(options.withRef ? ["ref"] : [])]),
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

    async list(options) {
      const sortField = userOrderFields[options.order.field];
      const direction = options.order.descending ? -1 : 1;
      const base = filterQuery(options.filter);
      let query = base;
      if (options.after) {
        const cmp = options.order.descending ? "$lt" : "$gt";
        // Keyset: after (value, id) in (field, _id) order. The range on the
        // field alone lets the (deleted_at, field, _id) index seek to the page.
        const keyset: Filter<UserDocument> =
          sortField === "_id"
            ? { _id: { [cmp]: options.after.userId } }
            : ({
                [sortField]: { [options.order.descending ? "$lte" : "$gte"]: options.after.value },
                $or: [{ [sortField]: { [cmp]: options.after.value } }, { _id: { [cmp]: options.after.userId } }],
              } as Filter<UserDocument>);
        query = { $and: [base, keyset] };
      }
      const sort: Sort = sortField === "_id" ? { _id: direction } : { [sortField]: direction, _id: direction };
      const extra = [...(sortField === "_id" ? [] : [sortField]), ...(options.withRef ? ["ref"] : [])];
      const docs = await users
        .find(query, {
          projection: projection(options.fields, extra),
          sort,
          skip: options.skip,
          limit: options.limit + 1,
          maxTimeMS: options.maxTimeMS,
        })
        .toArray();
      const more = docs.length > options.limit;
      const page = docs.slice(0, options.limit);
      const sortValues = page.map((d) => (d as Record<string, unknown>)[sortField === "_id" ? "user_id" : sortField]);
      const returned = [...alwaysReturnedFields, ...options.fields] as string[];
      if (sortField !== "_id" && !returned.includes(sortField)) {
        for (const d of page) delete (d as Record<string, unknown>)[sortField];
      }
      let total = -1;
      if (options.count === "estimate" && isUnfiltered(options.filter)) {
        const [all, deleted] = await Promise.all([
          users.estimatedDocumentCount({ maxTimeMS: options.maxTimeMS }),
          users.countDocuments({ deleted_at: { $ne: null } }, { maxTimeMS: options.maxTimeMS }),
        ]);
        // The system user is in the collection and, unless asked for, not in the list.
        total = Math.max(0, all - deleted - (options.filter.withSystem ? 0 : 1));
      } else if (options.count !== "none") {
        total = await users.countDocuments(base, { maxTimeMS: options.maxTimeMS });
      }
      return { users: page, sortValues, total, more };
    },

    async update(userId, change, options) {
      if (userId === systemUserId && options.actor !== systemUserId) throw errSystemUser({});
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
        around: (current, next, write) =>
          isActiveAdmin(current) && !isActiveAdmin(next) ? guardLastAdmin(current, write) : write(),
        writeError: (err, current, next) => classifyDuplicate(err, current.user_id, next.email_key, false),
      });
      return after;
    },

    async purge(userId) {
      if (userId === systemUserId) throw errSystemUser({});
      for (let attempt = 0; attempt < 30; attempt++) {
        const current = await byId(userId, { includeDeleted: true });
        if (!current) throw errUserNotFound({ user_id: userId });
        if (current.operation) throw errUserBusy({ user_id: userId, operation: current.operation.kind });
        const remove = async () =>
          (await users.deleteOne({ _id: current._id, revision: current.revision })).deletedCount === 1;
        const removed = isActiveAdmin(current) ? await guardLastAdmin(current, remove) : await remove();
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
