import type { FieldRules } from "../fieldmask.js";
import type { UserField } from "../store/user-documents.js";

/**
 * Who may read and change each User field: the table behind every field
 * mask of the UserRegistry. `password` is not a field: it is write-only and
 * travels in CreateUserRequest and the password RPCs.
 */
export const userFieldRules: FieldRules<UserField> = {
  user_id: { read: "public", update: "never" },
  name: { read: "public", update: "self" },
  description: { read: "public", update: "self" },
  primary_email_address: { read: "private", update: "self" },
  primary_email_address_validated_at: { read: "private", update: "admin" },
  attributes: { read: "private", update: "self" },
  state: { read: "private", update: "admin" },
  state_description: { read: "private", update: "admin" },
  admin: { read: "private", update: "admin" },
  require_password_update: { read: "private", update: "admin" },
  password_updated_at: { read: "private", update: "never" },
  created_at: { read: "public", update: "never" },
  updated_at: { read: "public", update: "never" },
  deleted_at: { read: "private", update: "never" },
  etag: { read: "public", update: "never" },
  created_by: { read: "private", update: "never" },
  updated_by: { read: "private", update: "never" },
  merged_into: { read: "private", update: "never" },
};
