import { randomBytes } from "node:crypto";
import type { Collection, Db, Document, Filter, Sort } from "mongodb";
import { ObjectId } from "mongodb";
import {
  errAdminChangeBusy,
  errConcurrentUpdate,
  errEmailTaken,
  errEtagMismatch,
  errLastAdmin,
  errUserIdTaken,
  errUserNotFound,
} from "../errors.js";
import {
  backoff,
  breakStaleClaim,
  type ClaimDocument,
  claimsCollection,
  tryClaim,
  versionedUpdate,
} from "./claims.js";
import { duplicateKeyField, ensureIndexes, isDuplicateKeyError } from "./database.js";
import { isActiveAdmin, type StateName, type UserDocument, type UserField } from "./user-documents.js";

/** Fields users can be ordered by, with the stored field that sorts them. */
export const userOrderFields = {
  user_id: "user_id",
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
  /** "estimate" counts unfiltered lists from collection metadata. */
  count: "exact" | "estimate";
  maxTimeMS?: number;
}

/** The result of one page. `sortValue` is the keyset value of each user. */
export interface UserPage {
  users: Partial<UserDocument>[];
  sortValues: unknown[];
  total: number;
  more: boolean;
}

/** A change to one user: given the current document, the next one, or undefined for no change. */
export type UserChange = (current: UserDocument) => UserDocument | undefined;

export interface UpdateOptions {
  /** Apply only if the user's etag is still this. */
  etag?: string;
  /** Apply to a soft-deleted user too (restore, purge bookkeeping). */
  includeDeleted?: boolean;
  maxTimeMS?: number;
}

/** Always-returned fields. */
export const alwaysReturnedFields = ["user_id", "created_at", "updated_at"] as const;

export interface UsersStore {
  ensureIndexes(): Promise<void>;
  /** Insert a new user; fails with USER_ID_TAKEN or EMAIL_TAKEN. */
  insert(doc: Omit<UserDocument, "_id" | "etag" | "revision">): Promise<UserDocument>;
  /** One user by id, with only `fields` (plus the always-returned ones), or null. */
  get(
    userId: string,
    fields: readonly UserField[],
    options?: { includeDeleted?: boolean; maxTimeMS?: number },
  ): Promise<Partial<UserDocument> | null>;
  /** The whole stored document, for code that needs hashes and revisions. */
  getDocument(userId: string, options?: { includeDeleted?: boolean }): Promise<UserDocument | null>;
  /** The whole stored document by its internal id. */
  getDocumentByRef(ref: ObjectId): Promise<UserDocument | null>;
  /** The whole stored document by lower-cased email. */
  getDocumentByEmail(email: string): Promise<UserDocument | null>;
  /** Users by ids and by emails (active only), with only `fields`. */
  getMany(
    userIds: readonly string[],
    emails: readonly string[],
    fields: readonly UserField[],
    maxTimeMS?: number,
  ): Promise<Partial<UserDocument>[]>;
  list(options: ListUsersOptions): Promise<UserPage>;
  /** Apply `change` without losing concurrent changes; see claims.ts. */
  update(userId: string, change: UserChange, options?: UpdateOptions): Promise<UserDocument>;
  /** Remove a user for good. Returns the removed document. */
  purge(userId: string): Promise<UserDocument>;
  /** Number of users, for the first-start bootstrap. */
  count(): Promise<number>;
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

function filterQuery(filter: UserFilter): Filter<UserDocument> {
  const and: Filter<UserDocument>[] = [filter.deleted ? { deleted_at: { $ne: null } } : { deleted_at: null }];
  if (filter.query) {
    and.push({
      $or: [{ user_id: contains(filter.query) }, { name: contains(filter.query) }, { description: contains(filter.query) }],
    });
  }
  if (filter.idContains) and.push({ user_id: contains(filter.idContains) });
  if (filter.nameContains) and.push({ name: contains(filter.nameContains) });
  if (filter.descriptionContains) and.push({ description: contains(filter.descriptionContains) });
  if (filter.emailContains) and.push({ email_key: contains(filter.emailContains.toLowerCase()) });
  if (filter.states && filter.states.length > 0) and.push({ state: { $in: filter.states } });
  if (filter.admin !== undefined) and.push({ admin: filter.admin });
  for (const [key, value] of Object.entries(filter.attributesContain ?? {})) {
    // Keys are validated by the registry (no `$`, no `.`), so this path is safe.
    and.push({ [`attributes.${key}`]: contains(value) } as Filter<UserDocument>);
  }
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
    Object.keys(filter.attributesContain ?? {}).length === 0
  );
}

function projection(fields: readonly string[], extra: readonly string[] = []): Document {
  const p: Document = { _id: 0 };
  for (const f of [...alwaysReturnedFields, ...fields, ...extra]) p[f] = 1;
  return p;
}

export function createUsersStore(db: Db): UsersStore {
  const users: Collection<UserDocument> = db.collection<UserDocument>("users");
  const claims: Collection<ClaimDocument> = claimsCollection(db);
  const locks = db.collection<{ _id: string; revision: number }>("locks");

  async function classifyDuplicate(err: unknown, userId: string, emailKey: string, self?: ObjectId): Promise<never> {
    if (!isDuplicateKeyError(err)) throw err;
    let field = duplicateKeyField(err);
    if (!field) {
      const holder = await users.findOne({ user_id: userId }, { projection: { _id: 1 } });
      field = holder && !holder._id.equals(self ?? new ObjectId()) ? "user_id" : "email_key";
    }
    if (field === "user_id") throw errUserIdTaken({ user_id: userId }, err);
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
      if (!(await tryClaim(claims, key))) {
        if (!(await breakStaleClaim(claims, key))) await backoff(attempt);
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
      await ensureIndexes(users, [
        { key: { user_id: 1 }, name: "user_id_1", unique: true },
        { key: { email_key: 1 }, name: "email_key_1", unique: true },
        { key: { deleted_at: 1, user_id: 1 }, name: "deleted_at_1_user_id_1" },
        { key: { name: 1, user_id: 1 }, name: "name_1_user_id_1" },
        { key: { email_key: 1, user_id: 1 }, name: "email_key_1_user_id_1" },
        { key: { state: 1, user_id: 1 }, name: "state_1_user_id_1" },
        { key: { admin: 1, user_id: 1 }, name: "admin_1_user_id_1" },
        { key: { created_at: 1, user_id: 1 }, name: "created_at_1_user_id_1" },
      ]);
      await ensureIndexes(claims, [{ key: { created_at: 1 }, name: "created_at_1" }]);
    },

    async insert(init) {
      const doc: UserDocument = { _id: new ObjectId(), ...init, etag: newEtag(), revision: 1 };
      try {
        await users.insertOne(doc);
      } catch (err) {
        await classifyDuplicate(err, doc.user_id, doc.email_key, doc._id);
      }
      return doc;
    },

    async get(userId, fields, options = {}) {
      const query: Filter<UserDocument> = { user_id: userId };
      if (!options.includeDeleted) query.deleted_at = null;
      return users.findOne(query, { projection: projection(fields), maxTimeMS: options.maxTimeMS });
    },

    async getDocument(userId, options = {}) {
      const query: Filter<UserDocument> = { user_id: userId };
      if (!options.includeDeleted) query.deleted_at = null;
      return users.findOne(query);
    },

    async getDocumentByRef(ref) {
      return users.findOne({ _id: ref });
    },

    async getDocumentByEmail(email) {
      return users.findOne({ email_key: email.toLowerCase(), deleted_at: null });
    },

    async getMany(userIds, emails, fields, maxTimeMS) {
      if (userIds.length === 0 && emails.length === 0) return [];
      const or: Filter<UserDocument>[] = [];
      if (userIds.length > 0) or.push({ user_id: { $in: [...userIds] } });
      if (emails.length > 0) or.push({ email_key: { $in: emails.map((e) => e.toLowerCase()) } });
      // email_key is fetched to match results to the emails asked for.
      return users
        .find({ deleted_at: null, $or: or }, { projection: projection(fields, ["email_key"]), maxTimeMS })
        .toArray();
    },

    async list(options) {
      const sortField = userOrderFields[options.order.field];
      const direction = options.order.descending ? -1 : 1;
      const base = filterQuery(options.filter);
      let query = base;
      if (options.after) {
        const cmp = options.order.descending ? "$lt" : "$gt";
        const keyset: Filter<UserDocument> =
          sortField === "user_id"
            ? { user_id: { [cmp]: options.after.userId } }
            : ({
                $or: [
                  { [sortField]: { [cmp]: options.after.value } },
                  { [sortField]: options.after.value, user_id: { [cmp]: options.after.userId } },
                ],
              } as Filter<UserDocument>);
        query = { $and: [base, keyset] };
      }
      const sort: Sort = sortField === "user_id" ? { user_id: direction } : { [sortField]: direction, user_id: direction };
      const docs = await users
        .find(query, {
          projection: projection(options.fields, sortField === "user_id" ? [] : [sortField]),
          sort,
          skip: options.skip,
          limit: options.limit + 1,
          maxTimeMS: options.maxTimeMS,
        })
        .toArray();
      const more = docs.length > options.limit;
      const page = docs.slice(0, options.limit);
      const sortValues = page.map((d) => (d as Record<string, unknown>)[sortField]);
      if (sortField !== "user_id" && !options.fields.includes(sortField as UserField)) {
        for (const d of page) delete (d as Record<string, unknown>)[sortField];
      }
      let total: number;
      if (options.count === "estimate" && isUnfiltered(options.filter)) {
        const [all, deleted] = await Promise.all([
          users.estimatedDocumentCount({ maxTimeMS: options.maxTimeMS }),
          users.countDocuments({ deleted_at: { $ne: null } }, { maxTimeMS: options.maxTimeMS }),
        ]);
        total = Math.max(0, all - deleted);
      } else {
        total = await users.countDocuments(base, { maxTimeMS: options.maxTimeMS });
      }
      return { users: page, sortValues, total, more };
    },

    async update(userId, change, options = {}) {
      const query: Filter<UserDocument> = { user_id: userId };
      if (!options.includeDeleted) query.deleted_at = null;
      const { after } = await versionedUpdate<UserDocument>({
        collection: users,
        claims,
        scope: "users",
        load: () => users.findOne(query, { maxTimeMS: options.maxTimeMS }),
        change(current) {
          if (options.etag && options.etag !== current.etag) throw errEtagMismatch({ user_id: userId });
          const next = change(current);
          return next && { ...next, user_id: current.user_id, etag: newEtag() };
        },
        missing: () => errUserNotFound({ user_id: userId }),
        conflict: options.etag ? () => errEtagMismatch({ user_id: userId }) : undefined,
        busy: () => errConcurrentUpdate({ user_id: userId }),
        around: (current, next, write) =>
          isActiveAdmin(current) && !isActiveAdmin(next) ? guardLastAdmin(current, write) : write(),
        writeError: (err, current, next) => classifyDuplicate(err, current.user_id, next.email_key, current._id),
      });
      return after;
    },

    async purge(userId) {
      for (let attempt = 0; attempt < 30; attempt++) {
        const current = await users.findOne({ user_id: userId });
        if (!current) throw errUserNotFound({ user_id: userId });
        const remove = async () => (await users.deleteOne({ _id: current._id, revision: current.revision })).deletedCount === 1;
        const removed = isActiveAdmin(current) ? await guardLastAdmin(current, remove) : await remove();
        if (removed) return current;
        await backoff(attempt);
      }
      throw errConcurrentUpdate({ user_id: userId });
    },

    async count() {
      return users.countDocuments({});
    },
  };
}
