import type { Collection, Db, ObjectId } from "mongodb";
import { isDuplicateKeyError } from "./database.js";
import { newEtag } from "./users-store.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

/**
 * One user's settings, all in one document: a change of one key is a
 * versioned update of this document, so concurrent changes of different
 * keys never lose each other, and limits on the count and total size are
 * checked against everything the user has.
 */
export interface SettingsDocument {
  /**
   * Hex of the user's `ref`. Keyed by the incarnation, not the user id: a
   * renamed user keeps its settings untouched, and a purged and re-created
   * user id inherits none.
   */
  _id: string;
  user_ref: ObjectId;
  /** The user id when the settings were last written; informational, never queried. */
  user_id: string;
  /**
   * Values by key, each as JSON text. Stored as text so that keys inside a
   * value (which may start with `$` or contain `.`) never become document
   * paths, and a value reads back exactly as it was written.
   */
  values: Record<string, string>;
  updated_at: Date | null;
  /** Empty until the first write. */
  etag: string;
  /** Incremented by every write; see write-locks.ts. */
  revision: number;
}

/** The owner of settings. */
export interface SettingsOwner {
  userId: string;
  ref: ObjectId;
}

/** Given the current values, the next ones, or undefined for no change. Throwing aborts. */
export type SettingsChange = (current: Readonly<Record<string, string>>) => Record<string, string> | undefined;

export interface SettingsStore {
  /** The user's settings document, or null when it never had settings. */
  get(userRef: ObjectId, maxTimeMS?: number): Promise<SettingsDocument | null>;
  /**
   * Apply `change` without losing concurrent changes. With `etag`, apply
   * only to that version (`conflict()` otherwise).
   */
  update(
    owner: SettingsOwner,
    change: SettingsChange,
    errors: { busy: () => Error; conflict: () => Error },
    options?: { etag?: string; maxTimeMS?: number },
  ): Promise<SettingsDocument>;
  /**
   * Remove a purged user's settings. Only for users that are gone for good:
   * a live user's settings document must never be removed (its revisions
   * would start again at write locks that already exist); empty it instead.
   */
  purge(userRef: ObjectId): Promise<void>;
}

function idOf(userRef: ObjectId): string {
  return userRef.toHexString();
}

export function createSettingsStore(db: Db): SettingsStore {
  const settings: Collection<SettingsDocument> = db.collection<SettingsDocument>("settings");
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);

  /** Make sure the document exists (revision 0, no values), so that every write is a versioned update. */
  async function ensureDocument(owner: SettingsOwner): Promise<void> {
    try {
      await settings.insertOne({
        _id: idOf(owner.ref),
        user_ref: owner.ref,
        user_id: owner.userId,
        values: {},
        updated_at: null,
        etag: "",
        revision: 0,
      });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }

  return {
    get(userRef, maxTimeMS) {
      return settings.findOne({ _id: idOf(userRef) }, { maxTimeMS });
    },

    async update(owner, change, errors, options = {}) {
      const load = () => settings.findOne({ _id: idOf(owner.ref) }, { maxTimeMS: options.maxTimeMS });
      if (!(await load())) await ensureDocument(owner);
      const { after } = await versionedUpdate<SettingsDocument>({
        collection: settings,
        writeLocks,
        scope: "settings",
        load,
        change(current) {
          if (options.etag && options.etag !== current.etag) throw errors.conflict();
          const values = change(current.values);
          return (
            values && {
              ...current,
              user_id: owner.userId,
              values,
              updated_at: new Date(),
              etag: newEtag(),
            }
          );
        },
        missing: errors.busy,
        conflict: options.etag ? errors.conflict : undefined,
        busy: errors.busy,
      });
      return after;
    },

    async purge(userRef) {
      await settings.deleteOne({ _id: idOf(userRef) });
    },
  };
}
