import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { type UserRecord, UserRecordSchema } from "../../gen/roster/v1/user_bulk_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import { userModel } from "../../shared/user-model.js";
import { passwordHashProblem } from "../access/imported-password-hashes.js";
import { requestProblems } from "../requests/request-rules.js";
import { isImportedTokenShape } from "../secrets/token-format.js";
import {
  type NewUserDocument,
  newUserDocument,
  sameStoredValue,
  stateName,
  systemUserId,
  type UserDocument,
} from "../store/user-documents.js";
import { userIdProblem, validateUserFields } from "../validation/user-validation.js";

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
  // As UserRegistry.Create takes them; an unset state defaults to APPROVED.
  const fields = userModel.creatable.filter((f) => f !== "state" || user.state !== State.UNSPECIFIED);
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
    // Every field Create takes, then the server's own.
    doc: newUserDocument(user, {
      state: user.state === State.UNSPECIFIED ? "APPROVED" : stateName(user.state),
      password_hash: hasPassword ? row.passwordHash : null,
      password_updated_at: hasPassword ? (date(user.passwordUpdatedAt) ?? now) : null,
      created_at: date(user.createdAt) ?? now,
      updated_at: date(user.updatedAt) ?? now,
      created_by: user.createdBy || actor,
      updated_by: user.updatedBy || actor,
    }),
  };
}

/** The fields an import row may change of a stored user: all Create takes, but the id. */
const importedFields = userModel.creatable.filter((f) => f !== "user_id");

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
  const current = stored as unknown as Record<string, unknown>;
  const given = d as unknown as Record<string, unknown>;
  const same = !password && importedFields.every((f) => sameStoredValue(current[f], given[f]));
  if (same) return undefined;
  return {
    ...stored,
    ...(Object.fromEntries(importedFields.map((f) => [f, given[f]])) as Partial<UserDocument>),
    email_key: d.email_key,
    password_hash: password ? d.password_hash : stored.password_hash,
    password_updated_at: password ? d.password_updated_at : stored.password_updated_at,
    updated_at: now,
  };
}
