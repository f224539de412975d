import type { Collection, Db, Filter } from "mongodb";
import { ensureIndexes, isDuplicateKeyError } from "./database.js";
import type { StateName } from "./user-documents.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

export type InvitationStatusName = "PENDING" | "ACCEPTED" | "EXPIRED" | "REVOKED";

/** An invitation as stored; the token only as its SHA-256. */
export interface InvitationDocument {
  _id: string;
  /** Lower-cased email address. */
  email: string;
  /**
   * The email while the invitation is pending, `<email>#<_id>` afterwards.
   * Its unique index allows one pending invitation per address without a
   * partial index (which FerretDB lacks).
   */
  pending_key: string;
  /** Hex SHA-256 of the token; unique. */
  token_hash: string;
  status: InvitationStatusName;
  expires_at: Date;
  created_at: Date;
  created_by: string;
  sent_at: Date;
  accepted_at: Date | null;
  accepted_by: string;
  /** Initial state of the new user; null: the registration default. */
  state: StateName | null;
  admin: boolean;
  /** PHC hash of the initial password, if the admin set one. */
  password_hash: string | null;
  revision: number;
}

/** The status a reader should see: pending invitations past their expiry are expired. */
export function effectiveStatus(doc: InvitationDocument, now = new Date()): InvitationStatusName {
  return doc.status === "PENDING" && doc.expires_at <= now ? "EXPIRED" : doc.status;
}

export function releasedKey(doc: Pick<InvitationDocument, "email" | "_id">): string {
  return `${doc.email}#${doc._id}`;
}

export interface InvitationsStore {
  ensureIndexes(): Promise<void>;
  /**
   * Insert a pending invitation. An expired invitation still holding the
   * address is moved aside first; a live one makes this return false.
   */
  insert(doc: InvitationDocument): Promise<boolean>;
  /** The pending invitation of an address, else its newest one. */
  getByEmail(email: string): Promise<InvitationDocument | null>;
  getByTokenHash(tokenHash: string): Promise<InvitationDocument | null>;
  list(options: {
    status?: InvitationStatusName;
    skip: number;
    limit: number;
    now: Date;
    maxTimeMS?: number;
  }): Promise<{ invitations: InvitationDocument[]; total: number }>;
  /** Change one invitation without losing concurrent changes; see write-locks.ts. */
  update(
    id: string,
    change: (current: InvitationDocument) => InvitationDocument | undefined,
    errors: { missing: () => Error; busy: () => Error; writeError?: (err: unknown) => never },
  ): Promise<InvitationDocument>;
  /** Mark pending invitations past their expiry as expired; returns how many. */
  sweepExpired(now: Date): Promise<number>;
  /** Point `accepted_by` and `created_by` at a user's new id (Rename). */
  renameUser(from: string, to: string): Promise<void>;
}

export function createInvitationsStore(db: Db): InvitationsStore {
  const invitations: Collection<InvitationDocument> = db.collection<InvitationDocument>("invitations");
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);
  const gone = () => new Error("invitation vanished");
  const busy = () => new Error("invitation busy");

  const expire = (doc: InvitationDocument) =>
    versionedUpdate<InvitationDocument>({
      collection: invitations,
      writeLocks,
      scope: "invitations",
      load: () => invitations.findOne({ _id: doc._id }),
      change: (current) =>
        effectiveStatus(current) === "EXPIRED" && current.status === "PENDING"
          ? { ...current, status: "EXPIRED", pending_key: releasedKey(current) }
          : undefined,
      missing: gone,
      busy,
    });

  const statusQuery = (status: InvitationStatusName | undefined, now: Date): Filter<InvitationDocument> => {
    switch (status) {
      case undefined:
        return {};
      case "PENDING":
        return { status: "PENDING", expires_at: { $gt: now } };
      case "EXPIRED":
        return { $or: [{ status: "EXPIRED" }, { status: "PENDING", expires_at: { $lte: now } }] };
      default:
        return { status };
    }
  };

  return {
    async ensureIndexes() {
      await ensureIndexes(invitations, [
        { key: { pending_key: 1 }, name: "pending_key_1", unique: true },
        { key: { token_hash: 1 }, name: "token_hash_1", unique: true },
        { key: { email: 1, created_at: -1 }, name: "email_1_created_at_-1" },
        { key: { created_at: -1 }, name: "created_at_-1" },
        { key: { status: 1, expires_at: 1 }, name: "status_1_expires_at_1" },
      ]);
    },

    async insert(doc) {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await invitations.insertOne(doc);
          return true;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          const holder = await invitations.findOne({ pending_key: doc.email });
          if (!holder) continue;
          if (effectiveStatus(holder) !== "EXPIRED") return false;
          await expire(holder);
        }
      }
      return false;
    },

    async getByEmail(email) {
      return (
        (await invitations.findOne({ pending_key: email })) ??
        (await invitations.findOne({ email }, { sort: { created_at: -1 } }))
      );
    },

    getByTokenHash: (tokenHash) => invitations.findOne({ token_hash: tokenHash }),

    async list(options) {
      const query = statusQuery(options.status, options.now);
      const [list, total] = await Promise.all([
        invitations
          .find(query, {
            sort: { created_at: -1, _id: -1 },
            skip: options.skip,
            limit: options.limit,
            maxTimeMS: options.maxTimeMS,
          })
          .toArray(),
        invitations.countDocuments(query, { maxTimeMS: options.maxTimeMS }),
      ]);
      return { invitations: list, total };
    },

    async update(id, change, errors) {
      const { after } = await versionedUpdate<InvitationDocument>({
        collection: invitations,
        writeLocks,
        scope: "invitations",
        load: () => invitations.findOne({ _id: id }),
        change,
        missing: errors.missing,
        busy: errors.busy,
        writeError: errors.writeError,
      });
      return after;
    },

    async renameUser(from, to) {
      await invitations.updateMany({ accepted_by: from }, { $set: { accepted_by: to } });
      await invitations.updateMany({ created_by: from }, { $set: { created_by: to } });
    },

    async sweepExpired(now) {
      const expired = await invitations.find({ status: "PENDING", expires_at: { $lte: now } }).toArray();
      for (const doc of expired) await expire(doc);
      return expired.length;
    },
  };
}
