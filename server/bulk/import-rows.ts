import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { type UserRecord, UserRecordSchema } from "../../gen/roster/v1/user_bulk_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import { passwordHashProblem } from "../access/imported-password-hashes.js";
import { isImportedTokenShape } from "../access/token-format.js";
import { requestProblems } from "../request-rules.js";
import { stateName, systemUserId, type UserDocument, type UserField } from "../store/user-documents.js";
import type { NewUserDocument } from "../store/users-bulk-store.js";
import { userIdProblem, validateUserFields } from "../users/user-validation.js";

/** The fields a row sets, as UserRegistry.Create takes them. */
const creatableFields: readonly UserField[] = [
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
];

/** A row that passed validation: the user it describes. */
export interface ImportCandidate {
  doc: NewUserDocument;
  /** Whether the row carries a password hash (otherwise a stored password is kept). */
  hasPassword: boolean;
  /** The row's `password_updated_at`, if it gives one. */
  passwordUpdatedAt: Date | null;
}

/**
 * The user a row describes, validated like UserRegistry.Create (same
 * validator, same defaults: state APPROVED), or the reason it is invalid.
 * Timestamps and audit fields the row carries are kept (see UserRecord);
 * `created_by` and `updated_by` default to `actor`, the importing admin.
 */
export function candidateFromRow(row: UserRecord, actor: string, now: Date): ImportCandidate | { problem: string } {
  // The request check leaves rows to this function, so that one bad row
  // does not fail the others.
  const problems = requestProblems(UserRecordSchema, row).map((p) => `${p.field}: ${p.description}`);
  if (problems.length > 0) return { problem: problems.join("; ") };
  const user = row.user;
  if (!user) return { problem: "user: is required" };
  const fields = creatableFields.filter((f) => f !== "state" || user.state !== State.UNSPECIFIED);
  try {
    validateUserFields(user, fields);
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    problems.push(err.rawMessage);
  }
  if (user.userId === systemUserId) problems.push("user.user_id: is the built-in system user's");
  for (const [field, value] of [
    ["created_by", user.createdBy],
    ["updated_by", user.updatedBy],
  ] as const) {
    if (value && value !== systemUserId && userIdProblem(value)) problems.push(`user.${field}: must be a user id`);
  }
  if (user.deletedAt) problems.push("user.deleted_at: soft-deleted users are not imported");
  if (row.passwordHash) {
    const problem = passwordHashProblem(row.passwordHash);
    if (problem) problems.push(`password_hash: ${problem}`);
  }
  if (row.apiKey && !isImportedTokenShape(row.apiKey)) {
    problems.push("api_key: must be 16 to 512 printable ASCII characters, not a Roster key");
  }
  if (problems.length > 0) return { problem: problems.join("; ") };
  const date = (t: typeof user.createdAt) => (t ? timestampDate(t) : null);
  const hasPassword = row.passwordHash !== "";
  return {
    hasPassword,
    passwordUpdatedAt: date(user.passwordUpdatedAt),
    doc: {
      user_id: user.userId,
      name: user.name,
      description: user.description,
      primary_email_address: user.primaryEmailAddress,
      email_key: user.primaryEmailAddress.toLowerCase(),
      primary_email_address_validated_at: date(user.primaryEmailAddressValidatedAt),
      attributes: { ...user.attributes },
      state: user.state === State.UNSPECIFIED ? "APPROVED" : stateName(user.state),
      state_description: user.stateDescription,
      admin: user.admin,
      require_password_update: user.requirePasswordUpdate,
      password_hash: hasPassword ? row.passwordHash : null,
      password_updated_at: hasPassword ? (date(user.passwordUpdatedAt) ?? now) : null,
      created_at: date(user.createdAt) ?? now,
      updated_at: date(user.updatedAt) ?? now,
      deleted_at: null,
      created_by: user.createdBy || actor,
      updated_by: user.updatedBy || actor,
      merged_into: "",
      merge_redirect: false,
      operation: null,
    },
  };
}

const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/**
 * Whether the row's password replaces the stored one: when the user has
 * none, or the row's password is newer. An old file imported again thus
 * never undoes a password change (nor a rehash at login, which keeps
 * `password_updated_at`).
 */
function replacesPassword(candidate: ImportCandidate, stored: UserDocument): boolean {
  if (!candidate.hasPassword || candidate.doc.password_hash === stored.password_hash) return false;
  if (!stored.password_hash) return true;
  const given = candidate.passwordUpdatedAt;
  return given !== null && (stored.password_updated_at === null || given > stored.password_updated_at);
}

/**
 * The stored user changed to match the row, or undefined when it already
 * does. `created_at` stays the stored one; `updated_at` becomes `now`.
 */
export function updatedUser(stored: UserDocument, candidate: ImportCandidate, now: Date): UserDocument | undefined {
  const d = candidate.doc;
  const password = replacesPassword(candidate, stored);
  const same =
    !password &&
    stored.name === d.name &&
    stored.description === d.description &&
    stored.primary_email_address === d.primary_email_address &&
    sameTime(stored.primary_email_address_validated_at, d.primary_email_address_validated_at) &&
    sameAttributes(stored.attributes, d.attributes) &&
    stored.state === d.state &&
    stored.state_description === d.state_description &&
    stored.admin === d.admin &&
    stored.require_password_update === d.require_password_update;
  if (same) return undefined;
  return {
    ...stored,
    name: d.name,
    description: d.description,
    primary_email_address: d.primary_email_address,
    email_key: d.email_key,
    primary_email_address_validated_at: d.primary_email_address_validated_at,
    attributes: { ...d.attributes },
    state: d.state,
    state_description: d.state_description,
    admin: d.admin,
    require_password_update: d.require_password_update,
    password_hash: password ? d.password_hash : stored.password_hash,
    password_updated_at: password ? d.password_updated_at : stored.password_updated_at,
    updated_at: now,
  };
}
