import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ObjectId } from "mongodb";

/** Id of the built-in system user; see users/system-user.ts. */
export const systemUserId = "system";

/** Internal id of a user document; references survive renames and die with a purge. */
export type UserRef = ObjectId;

import { State, type User, UserSchema } from "../../gen/roster/v1/user_pb.js";

/**
 * A user as stored. Field names are the proto field names; `state` is the
 * enum value's short name (`APPROVED`) so that documents read well in a
 * shell; timestamps are BSON dates; absent optional values are null so that
 * every field sorts and filters the same way on MongoDB and FerretDB.
 */
export interface UserDocument {
  /**
   * The user id. Keying documents by it makes every lookup by id an `_id`
   * lookup (indexed on MongoDB, and pushed down to SQL by FerretDB 1.x, which
   * filters every other field in Go); it also keeps the id reserved until
   * the document is purged.
   */
  _id: string;
  user_id: string;
  /**
   * This incarnation of the user. Tokens and other records hold it, so that
   * a purged and re-created user id inherits none of them.
   */
  ref: UserRef;
  name: string;
  description: string;
  primary_email_address: string;
  /** Lower-cased primary email address; carries the unique index. */
  email_key: string;
  primary_email_address_validated_at: Date | null;
  attributes: Record<string, string>;
  state: StateName;
  state_description: string;
  admin: boolean;
  require_password_update: boolean;
  /** PHC string of the password hash, or null when no password is set. */
  password_hash: string | null;
  password_updated_at: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  etag: string;
  /** Incremented by every write; see write-locks.ts. */
  revision: number;
  /** Who created the user (a user id, or `system`). */
  created_by: string;
  /** Who changed the user last. */
  updated_by: string;
  /** The user this account was merged into, or "". */
  merged_into: string;
  /** Whether logins as this merged account yield tokens for `merged_into`. */
  merge_redirect: boolean;
  /**
   * A multi-step operation under way (a journal: Merge and Rename write it
   * first, so that a retry after a crash knows what to finish), or null.
   */
  operation: UserOperation | null;
}

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

/** Whether the user counts as an admin for the last-admin guard. */
export function isActiveAdmin(doc: Pick<UserDocument, "admin" | "state" | "deleted_at">): boolean {
  return doc.admin && doc.state === "APPROVED" && doc.deleted_at === null;
}

/** User fields as stored, in proto order; `password_hash` is never among them. */
export const userDocumentFields = [
  "user_id",
  "name",
  "description",
  "primary_email_address",
  "primary_email_address_validated_at",
  "attributes",
  "state",
  "state_description",
  "admin",
  "require_password_update",
  "password_updated_at",
  "created_at",
  "updated_at",
  "deleted_at",
  "etag",
  "created_by",
  "updated_by",
  "merged_into",
] as const;

export type UserField = (typeof userDocumentFields)[number];

function toTimestamp(date: Date | null | undefined) {
  return date ? timestampFromDate(date) : undefined;
}

/** Map a (possibly projected) document to a User message. */
export function userFromDocument(doc: Partial<UserDocument>): User {
  const user = create(UserSchema);
  if (doc.user_id !== undefined) user.userId = doc.user_id;
  if (doc.name !== undefined) user.name = doc.name;
  if (doc.description !== undefined) user.description = doc.description;
  if (doc.primary_email_address !== undefined) user.primaryEmailAddress = doc.primary_email_address;
  user.primaryEmailAddressValidatedAt = toTimestamp(doc.primary_email_address_validated_at);
  if (doc.attributes !== undefined) user.attributes = { ...doc.attributes };
  if (doc.state !== undefined) user.state = stateFromName(doc.state);
  if (doc.state_description !== undefined) user.stateDescription = doc.state_description;
  if (doc.admin !== undefined) user.admin = doc.admin;
  if (doc.require_password_update !== undefined) user.requirePasswordUpdate = doc.require_password_update;
  user.passwordUpdatedAt = toTimestamp(doc.password_updated_at);
  user.createdAt = toTimestamp(doc.created_at);
  user.updatedAt = toTimestamp(doc.updated_at);
  user.deletedAt = toTimestamp(doc.deleted_at);
  if (doc.etag !== undefined) user.etag = doc.etag;
  if (doc.created_by !== undefined) user.createdBy = doc.created_by;
  if (doc.updated_by !== undefined) user.updatedBy = doc.updated_by;
  if (doc.merged_into !== undefined) user.mergedInto = doc.merged_into;
  return user;
}

/** The stored value of one user field, taken from a message. */
export function documentValue(user: User, field: UserField): unknown {
  switch (field) {
    case "user_id":
      return user.userId;
    case "name":
      return user.name;
    case "description":
      return user.description;
    case "primary_email_address":
      return user.primaryEmailAddress;
    case "primary_email_address_validated_at":
      return user.primaryEmailAddressValidatedAt ? timestampDate(user.primaryEmailAddressValidatedAt) : null;
    case "attributes":
      return { ...user.attributes };
    case "state":
      return stateName(user.state);
    case "state_description":
      return user.stateDescription;
    case "admin":
      return user.admin;
    case "require_password_update":
      return user.requirePasswordUpdate;
    case "password_updated_at":
      return user.passwordUpdatedAt ? timestampDate(user.passwordUpdatedAt) : null;
    case "created_at":
      return user.createdAt ? timestampDate(user.createdAt) : null;
    case "updated_at":
      return user.updatedAt ? timestampDate(user.updatedAt) : null;
    case "deleted_at":
      return user.deletedAt ? timestampDate(user.deletedAt) : null;
    case "etag":
      return user.etag;
    case "created_by":
      return user.createdBy;
    case "updated_by":
      return user.updatedBy;
    case "merged_into":
      return user.mergedInto;
  }
}
