import {
  type Collection,
  type Db,
  type Document,
  type Filter,
  MongoBulkWriteError,
  ObjectId,
  type WriteError,
} from "mongodb";
import { type NewUserDocument, systemUserId, type UserDocument, type UserField } from "./user-documents.js";
import { filterQuery, type UserFilter } from "./user-filters.js";
import { alwaysReturnedFields } from "./user-lists.js";
import { newEtag } from "./users-store.js";

/** A user to insert: everything but what the store assigns. */

/** What an export reads. */
export interface ScanOptions {
  filter: UserFilter;
  /** Only users whose id sorts after this one. */
  afterUserId?: string;
  fields: readonly UserField[];
  /** Read `password_hash` too. */
  passwordHashes: boolean;
  /** Users per batch, and per database round trip. */
  batchSize: number;
  /** Stops the scan (the call was cancelled or ran out of time). */
  signal: AbortSignal;
  maxTimeMS?: number;
}

/** Many users at once: exports and imports. */
export interface UsersBulkStore {
  /** Number of users `scan` would return now. */
  count(
    filter: UserFilter,
    afterUserId: string | undefined,
    options: { signal: AbortSignal; maxTimeMS?: number },
  ): Promise<number>;
  /**
   * Users matching the filter in user id order, a batch at a time, read
   * through one cursor: memory holds one batch, whatever the total.
   */
  scan(options: ScanOptions): AsyncGenerator<Partial<UserDocument>[]>;
  /**
   * Insert users in one unordered batch. Returns, per document, whether it
   * was inserted (false: a unique index refused it, because its user id or
   * email address is taken). Uniqueness is the indexes' alone.
   */
  insertMany(docs: readonly NewUserDocument[]): Promise<boolean[]>;
  /**
   * Stored users (deleted ones too) holding any of these ids or lower-cased
   * emails, in one query: the rows of a batch are classified against them.
   */
  findHolders(userIds: readonly string[], emailKeys: readonly string[], maxTimeMS?: number): Promise<UserDocument[]>;
}

/** Exports leave out the built-in system user: every database has its own. */
function scanQuery(filter: UserFilter, afterUserId: string | undefined): Filter<UserDocument> {
  const ids: Filter<UserDocument>["_id"] = { $ne: systemUserId };
  if (afterUserId) ids.$gt = afterUserId;
  return { $and: [filterQuery(filter), { _id: ids }] };
}

/** Whether a write error of a batch insert comes from a unique index (FerretDB 1.x may answer code 1). */
function isDuplicateWrite(error: WriteError): boolean {
  return error.code === 11000 || (error.code === 1 && /UNIQUE constraint failed/.test(error.errmsg ?? ""));
}

export function createUsersBulkStore(db: Db): UsersBulkStore {
  const users: Collection<UserDocument> = db.collection<UserDocument>("users");

  return {
    count(filter, afterUserId, options) {
      return users.countDocuments(scanQuery(filter, afterUserId), options);
    },

    async *scan(options) {
      const projection: Document = { _id: 0 };
      for (const f of [...alwaysReturnedFields, ...options.fields]) projection[f] = 1;
      if (options.passwordHashes) projection.password_hash = 1;
      const cursor = users.find<Partial<UserDocument>>(scanQuery(options.filter, options.afterUserId), {
        projection,
        sort: { _id: 1 },
        batchSize: options.batchSize,
        maxTimeMS: options.maxTimeMS,
        signal: options.signal,
      });
      try {
        let batch: Partial<UserDocument>[] = [];
        for await (const doc of cursor) {
          batch.push(doc);
          if (batch.length >= options.batchSize) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) yield batch;
      } finally {
        await cursor.close();
      }
    },

    async insertMany(docs) {
      if (docs.length === 0) return [];
      const inserted = docs.map(() => true);
      const stored: UserDocument[] = docs.map((d) => ({
        _id: d.user_id,
        ref: new ObjectId(),
        ...d,
        etag: newEtag(),
        revision: 1,
      }));
      try {
        await users.insertMany(stored, { ordered: false });
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError)) throw err;
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        if (errors.length === 0 || !errors.every(isDuplicateWrite)) throw err;
        for (const e of errors) inserted[e.index] = false;
      }
      return inserted;
    },

    async findHolders(userIds, emailKeys, maxTimeMS) {
      if (userIds.length === 0 && emailKeys.length === 0) return [];
      return users
        .find({ $or: [{ _id: { $in: [...userIds] } }, { email_key: { $in: [...emailKeys] } }] }, { maxTimeMS })
        .toArray();
    },
  };
}
