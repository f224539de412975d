import type { Collection, Db, Filter, ObjectId } from "mongodb";
import { ensureIndexes } from "./database.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

export type TokenRequestStatusName = "PENDING" | "GRANTED" | "DENIED" | "RETRIEVED";

/** A user's request for an API key, as stored. */
export interface TokenRequestDocument {
  _id: string;
  user_id: string;
  user_ref: ObjectId;
  name: string;
  rights: string[];
  reason: string;
  status: TokenRequestStatusName;
  created_at: Date;
  decided_at: Date | null;
  decided_by: string;
  decision_note: string;
  expires_at: Date | null;
  api_key_id: string;
  revision: number;
}

export interface TokenRequestsStore {
  ensureIndexes(): Promise<void>;
  insert(doc: TokenRequestDocument): Promise<void>;
  get(id: string): Promise<TokenRequestDocument | null>;
  /** A page, oldest first; `userRef` undefined lists every user's. */
  list(options: {
    userRef?: ObjectId;
    status?: TokenRequestStatusName;
    skip: number;
    limit: number;
    maxTimeMS?: number;
  }): Promise<{ requests: TokenRequestDocument[]; total: number }>;
  /** Change one request without losing concurrent changes (see write-locks.ts). */
  update(
    id: string,
    change: (current: TokenRequestDocument) => TokenRequestDocument | undefined,
    errors: { missing: () => Error; busy: () => Error },
  ): Promise<TokenRequestDocument>;
  deleteForUser(userRef: ObjectId): Promise<number>;
  /** Point a user's requests (by ref) and the decisions it made at its new id (Rename). */
  renameUser(ref: ObjectId, from: string, to: string): Promise<void>;
  /**
   * The open requests (PENDING, or GRANTED and not yet retrieved) of these
   * users, in one query: their statuses by ref (as hex strings).
   */
  openRequestsOf(userRefs: readonly ObjectId[], maxTimeMS?: number): Promise<Map<string, TokenRequestStatusName[]>>;
}

export function createTokenRequestsStore(db: Db): TokenRequestsStore {
  const requests: Collection<TokenRequestDocument> = db.collection<TokenRequestDocument>("token_requests");
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);
  return {
    async ensureIndexes() {
      await ensureIndexes(requests, [
        { key: { user_ref: 1, created_at: 1 }, name: "user_ref_1_created_at_1" },
        { key: { status: 1, created_at: 1 }, name: "status_1_created_at_1" },
      ]);
    },
    async insert(doc) {
      await requests.insertOne(doc);
    },
    async get(id) {
      return requests.findOne({ _id: id });
    },
    async list(options) {
      const query: Filter<TokenRequestDocument> = {};
      if (options.userRef) query.user_ref = options.userRef;
      if (options.status) query.status = options.status;
      const [list, total] = await Promise.all([
        requests
          .find(query, {
            sort: { created_at: 1, _id: 1 },
            skip: options.skip,
            limit: options.limit,
            maxTimeMS: options.maxTimeMS,
          })
          .toArray(),
        requests.countDocuments(query, { maxTimeMS: options.maxTimeMS }),
      ]);
      return { requests: list, total };
    },
    async update(id, change, errors) {
      const { after } = await versionedUpdate<TokenRequestDocument>({
        collection: requests,
        writeLocks,
        scope: "token_requests",
        load: () => requests.findOne({ _id: id }),
        change,
        missing: errors.missing,
        busy: errors.busy,
      });
      return after;
    },
    async openRequestsOf(userRefs, maxTimeMS) {
      const open = new Map<string, TokenRequestStatusName[]>();
      if (userRefs.length === 0) return open;
      const found = await requests
        .find(
          { user_ref: { $in: [...userRefs] }, status: { $in: ["PENDING", "GRANTED"] } },
          { projection: { _id: 0, user_ref: 1, status: 1 }, maxTimeMS },
        )
        .toArray();
      for (const r of found) {
        const ref = r.user_ref.toHexString();
        open.set(ref, [...(open.get(ref) ?? []), r.status]);
      }
      return open;
    },
    async renameUser(ref, from, to) {
      await requests.updateMany({ user_ref: ref }, { $set: { user_id: to } });
      await requests.updateMany({ decided_by: from }, { $set: { decided_by: to } });
    },
    async deleteForUser(userRef) {
      return (await requests.deleteMany({ user_ref: userRef })).deletedCount;
    },
  };
}
