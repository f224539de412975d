import type { Collection, Db, ObjectId } from "mongodb";
import { isDuplicateKeyError } from "./database.js";

/** A published user agreement: its current version only. */
export interface AgreementDocument {
  /** The agreement id (validated: no `$`, no `.`, so it can be a path below). */
  _id: string;
  version: number;
  title: string;
  url: string;
  updated_at: Date;
}

/**
 * What one user did about agreements, keyed by the user's incarnation (hex
 * of its `ref`): whether an admin set the user up (Arvados' setup, which
 * allows the user to activate themself), and the version of each
 * agreement the user accepted, by agreement id.
 */
export interface UserAgreementsDocument {
  _id: string;
  user_ref: ObjectId;
  set_up: boolean;
  accepted: Record<string, { version: number; at: Date }>;
}

export interface AgreementsStore {
  /** Every agreement, by id. */
  list(maxTimeMS?: number): Promise<AgreementDocument[]>;
  get(id: string): Promise<AgreementDocument | null>;
  /**
   * Publish `doc` unless a version above it is stored (then the stored one
   * comes back unchanged: the caller compares versions).
   */
  put(doc: AgreementDocument): Promise<AgreementDocument>;
  /** Whether it existed. */
  delete(id: string): Promise<boolean>;
  /** One user's record, or null when the user never was set up nor accepted anything. */
  ofUser(userRef: ObjectId): Promise<UserAgreementsDocument | null>;
  /** Record the user's acceptance of a version (a single-field write: concurrent ones never lose each other). */
  accept(userRef: ObjectId, id: string, version: number, at: Date): Promise<void>;
  /** Mark the user set up, or no longer (unsetup). */
  setUp(userRef: ObjectId, setUp: boolean): Promise<void>;
  /** Remove a purged user's record. */
  purge(userRef: ObjectId): Promise<void>;
}

export function createAgreementsStore(db: Db): AgreementsStore {
  const agreements: Collection<AgreementDocument> = db.collection<AgreementDocument>("agreements");
  const byUser: Collection<UserAgreementsDocument> = db.collection<UserAgreementsDocument>("user_agreements");
  const upsertUser = (userRef: ObjectId, set: Record<string, unknown>) =>
    byUser.updateOne({ _id: userRef.toHexString() }, { $set: { ...set, user_ref: userRef } } as never, {
      upsert: true,
    });
  return {
    list: (maxTimeMS) => agreements.find({}, { sort: { _id: 1 }, maxTimeMS }).toArray(),
    get: (id) => agreements.findOne({ _id: id }),
    async put(doc) {
      const { _id, ...rest } = doc;
      try {
        // Only a version at or above the stored one replaces it; a lower
        // one finds no match, and its upsert collides with the stored id.
        await agreements.updateOne({ _id, version: { $lte: doc.version } }, { $set: rest }, { upsert: true });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      return (await agreements.findOne({ _id })) ?? doc;
    },
    async delete(id) {
      return (await agreements.deleteOne({ _id: id })).deletedCount > 0;
    },
    ofUser: (userRef) => byUser.findOne({ _id: userRef.toHexString() }),
    async accept(userRef, id, version, at) {
      await upsertUser(userRef, { [`accepted.${id}`]: { version, at } });
    },
    async setUp(userRef, setUp) {
      await upsertUser(userRef, { set_up: setUp });
    },
    async purge(userRef) {
      await byUser.deleteOne({ _id: userRef.toHexString() });
    },
  };
}
