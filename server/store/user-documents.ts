import type { ObjectId } from "mongodb";
import { userModel } from "../../shared/user-model.js";
import { messageFromDocument, documentValue as storedValue } from "./message-documents.js";

/** Id of the built-in system user; see access/system-user.ts. */
export const systemUserId = "system";

/** Internal id of a user document; references survive renames and die with a purge. */
export type UserRef = ObjectId;

import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { State, type User, type UserSchema } from "../../gen/roster/v1/user_pb.js";

/** `primaryEmailAddress` → `primary_email_address`: a generated field's proto name. */
type ProtoName<S extends string> = S extends `${infer C}${infer Rest}`
  ? `${C extends Lowercase<C> ? C : `_${Lowercase<C>}`}${ProtoName<Rest>}`
  : S;

/** How a User field's value is stored: timestamps as dates (null when unset), the state by name. */
type Stored<V> = [V] extends [Timestamp | undefined] ? Date | null : [V] extends [State] ? StateName : V;

/** The User message's stored fields (its computed `token_status` is never stored). */
type StoredUserMessage = Omit<User, "$typeName" | "$unknown" | "tokenStatus">;

/**
 * A user as stored. The fields of the User message are derived from its
 * generated type (so user.proto stays the one list of them), under their
 * proto names; `state` is the enum value's short name (`APPROVED`) so that
 * documents read well in a shell; timestamps are BSON dates; absent
 * optional values are null so that every field sorts and filters the same
 * way on MongoDB and FerretDB. Listed here: what only the store keeps.
 */
export type UserDocument = {
  [K in keyof StoredUserMessage as ProtoName<K & string>]-?: Stored<StoredUserMessage[K]>;
} & {
  /**
   * The user id. Keying documents by it makes every lookup by id an `_id`
   * lookup (indexed on MongoDB, and pushed down to SQL by FerretDB 1.x, which
   * filters every other field in Go); it also keeps the id reserved until
   * the document is purged.
   */
  _id: string;
  /**
   * This incarnation of the user. Tokens and other records hold it, so that
   * a purged and re-created user id inherits none of them.
   */
  ref: UserRef;
  /** Lower-cased primary email address; carries the unique index. */
  email_key: string;
  /** PHC string of the password hash, or null when no password is set. */
  password_hash: string | null;
  /** Every user has been created and changed at some time. */
  created_at: Date;
  updated_at: Date;
  /** Incremented by every write; see write-locks.ts. */
  revision: number;
  /** Whether logins as this merged account yield tokens for `merged_into`. */
  merge_redirect: boolean;
  /**
   * A multi-step operation under way (a journal: Merge and Rename write it
   * first, so that a retry after a crash knows what to finish), or null.
   */
  operation: UserOperation | null;
};

/** A merge or rename in progress; see users/merge-users.ts and users/rename-user.ts. */
export type UserOperation =
  | { kind: "merge"; into: string; api_keys: "MOVE" | "REVOKE"; redirect: boolean }
  | { kind: "rename"; to: string }
  | { kind: "renamed_from"; from: string };

export type StateName = "REQUESTED" | "APPROVED" | "REJECTED" | "FLAGGED" | "SUSPENDED";

export function stateName(state: State): StateName {
  const name = State[state];
  if (!name || state === State.UNSPECIFIED) throw new Error(`invalid state ${state}`);
  return name as StateName;
}

export function stateFromName(name: StateName): State {
  return State[name];
}

/**
 * User fields as stored, in proto order (each under its proto name; see
 * message-documents.ts for how each kind is stored); `password_hash` is
 * never among them, nor computed fields.
 */
export const userDocumentFields: readonly string[] = userModel.fields.filter((f) => !f.computed).map((f) => f.name);

/** A User field name (a mask path). */
export type UserField = string;

/** Map a (possibly projected) document to a User message. */
export function userFromDocument(doc: Partial<UserDocument>): User {
  return messageFromDocument<typeof UserSchema>(userModel, doc);
}

/** The stored value of one user field, taken from a message. */
export function documentValue(user: User, field: UserField): unknown {
  const spec = userModel.byName.get(field);
  if (!spec) throw new Error(`unknown user field ${field}`);
  return storedValue(user, spec.desc);
}

/**
 * The stored values of a user's `fields` (by default every field Create
 * takes), keyed by proto name: what a new or imported user's document
 * holds of the message, before the server's own fields.
 */
export function userFieldValues(
  user: User,
  fields: readonly UserField[] = userModel.creatable,
): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, documentValue(user, f)]));
}

/** A new user's document, before the store gives it its keys and versions. */
export type NewUserDocument = Omit<UserDocument, "_id" | "ref" | "etag" | "revision">;

/**
 * A new user's document: every field Create takes, from `user` (their
 * proto defaults where unset), then what the server decided (`decided`,
 * which wins). Unless decided otherwise, a new user has no password, was
 * made now by `created_by`, and has not been deleted, merged or renamed.
 */
export function newUserDocument(
  user: User,
  decided: Pick<NewUserDocument, "created_by"> & Partial<NewUserDocument>,
  now = new Date(),
): NewUserDocument {
  // The creatable fields come from the field model at run time, so the type is asserted.
  return {
    ...userFieldValues(user),
    email_key: user.primaryEmailAddress.toLowerCase(),
    password_hash: null,
    password_updated_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    updated_by: decided.created_by,
    merged_into: "",
    merge_redirect: false,
    operation: null,
    ...decided,
  } as NewUserDocument;
}

/** Whether two stored values of a user field are the same (dates by time, maps by entries). */
export function sameStoredValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    return (a as Date | null)?.getTime?.() === (b as Date | null)?.getTime?.();
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = Object.keys(x);
    return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && x[k] === y[k]);
  }
  return a === b;
}
