import type { User } from "../../gen/roster/v1/user_pb.js";
import { type FieldViolation, invalidArgument } from "../../shared/errors.js";
import type { FieldSpec } from "../../shared/field-model.js";
import { userField } from "../../shared/user-model.js";
import type { UserField } from "../store/user-documents.js";
import { longerThan } from "./text.js";

/** User ids: lower-case letters and digits, single dashes between, 2 to 36 characters. */
export const userIdPattern = /^[a-z0-9](?:[-]?[a-z0-9]){1,}$/;
/** Longest user id (user.proto's `max_length` of `user_id`). */
export const userIdMaxLength = userField("user_id").maxLength;
const emailMaxLength = userField("primary_email_address").maxLength;

/** Attribute keys: never `$`-prefixed or dotted, so they are safe as document keys (user.proto's `key_pattern`). */
export const attributeKeyPattern = userField("attributes").keyPattern as RegExp;

/** Limits of user fields, in code points (entries for attributes), as user.proto annotates them. */
export const limits = {
  name: userField("name").maxLength,
  description: userField("description").maxLength,
  email: emailMaxLength,
  stateDescription: userField("state_description").maxLength,
  attributes: userField("attributes").maxEntries,
  attributeValue: userField("attributes").maxLength,
};

// Deliberately loose (RFC 5322 allows far more, and admin@localhost is a
// fine address on a private install); it catches slips, and the
// invitation flow proves an address works by sending to it.
const emailPattern = /^[^\s@]+@[^\s@]+$/;

/** Why `email` is not a usable address, or undefined. */
export function emailProblem(email: string): string | undefined {
  if (!email) return "is required";
  if (longerThan(email, emailMaxLength) || !emailPattern.test(email)) return "must be an email address";
  return undefined;
}

export function userIdProblem(userId: string): string | undefined {
  if (!userId) return "is required";
  if (longerThan(userId, userIdMaxLength)) return `must be at most ${userIdMaxLength} characters`;
  if (!userIdPattern.test(userId)) {
    return "must be 2 or more lower-case letters and digits, with single dashes between them";
  }
  return undefined;
}

/** INVALID_ARGUMENT naming `field` unless `userId` is a well-formed user id. */
export function requireUserId(userId: string, field = "user_id"): void {
  const problem = userIdProblem(userId);
  if (problem) throw invalidArgument([{ field, description: problem }]);
}

/** The check of a text format named in the proto (`roster.v1.field` format). */
export const formatProblems: Record<FieldSpec["format"], ((text: string) => string | undefined) | undefined> = {
  text: undefined,
  user_id: userIdProblem,
  email: emailProblem,
};

/**
 * Check the given fields of `user` beyond the rules every request follows
 * (lengths, characters, enum values: requests/request-rules.ts), from their
 * annotations: formats, required values, map sizes and keys, and enums
 * that must be set. Throws INVALID_ARGUMENT naming every problem.
 */
export function validateUserFields(user: User, fields: readonly UserField[], prefix = "user."): void {
  const problems: FieldViolation[] = [];
  const add = (field: string, description: string) => problems.push({ field: prefix + field, description });
  const values = user as unknown as Record<string, unknown>;
  for (const name of fields) {
    const field = userField(name);
    const value = values[field.desc.localName];
    const formatProblem = formatProblems[field.format];
    if (formatProblem && typeof value === "string") {
      const problem = formatProblem(value);
      if (problem) add(name, problem);
    } else if (field.required && (value === "" || value === undefined)) {
      add(name, "is required");
    }
    if (field.desc.fieldKind === "map") {
      const entries = Object.entries(value as Record<string, unknown>);
      if (field.maxEntries && entries.length > field.maxEntries) {
        add(name, `must have at most ${field.maxEntries} entries`);
      }
      for (const [key] of entries) {
        if (field.keyPattern && !field.keyPattern.test(key)) {
          add(`${name}.${key}`, `key must match ${field.keyPattern.source}`);
        }
      }
    }
    // A given enum must name a value: its zero means "not set".
    if (field.desc.fieldKind === "enum" && !field.desc.enum.values.some((v) => v.number === value && v.number !== 0)) {
      add(name, `must be a valid ${field.desc.enum.name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}`);
    }
  }
  if (problems.length > 0) throw invalidArgument(problems);
}
