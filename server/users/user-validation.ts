import { State, type User } from "../../gen/roster/v1/user_pb.js";
import { type FieldViolation, invalidArgument } from "../../shared/errors.js";
import type { UserField } from "../store/user-documents.js";
import { longerThan } from "../text.js";

/** User ids: lower-case letters and digits, single dashes between, 2 to 36 characters. */
export const userIdPattern = /^[a-z0-9](?:[-]?[a-z0-9]){1,}$/;
export const userIdMaxLength = 36;

/** Attribute keys: never `$`-prefixed or dotted, so they are safe as document keys. */
export const attributeKeyPattern = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Limits of user fields, in code points. The lengths of text fields are
 * enforced for every request by the request rules (request-rules.ts).
 */
export const limits = {
  name: 200,
  description: 2000,
  email: 254,
  stateDescription: 1000,
  attributes: 100,
  attributeValue: 1000,
};

// Deliberately loose (RFC 5322 allows far more, and admin@localhost is a
// fine address on a private install); it catches slips, and the
// invitation flow proves an address works by sending to it.
const emailPattern = /^[^\s@]+@[^\s@]+$/;

/** Why `email` is not a usable address, or undefined. */
export function emailProblem(email: string): string | undefined {
  if (!email) return "is required";
  if (longerThan(email, limits.email) || !emailPattern.test(email)) return "must be an email address";
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

/**
 * Check the given fields of `user` beyond the rules every request follows
 * (lengths, characters, enum values: request-rules.ts); throws
 * INVALID_ARGUMENT naming every problem.
 */
export function validateUserFields(user: User, fields: readonly UserField[], prefix = "user."): void {
  const problems: FieldViolation[] = [];
  const add = (field: string, description: string) => problems.push({ field: prefix + field, description });
  for (const field of fields) {
    switch (field) {
      case "user_id": {
        const problem = userIdProblem(user.userId);
        if (problem) add(field, problem);
        break;
      }
      case "primary_email_address": {
        const problem = emailProblem(user.primaryEmailAddress);
        if (problem) add(field, problem);
        break;
      }
      case "attributes": {
        const entries = Object.entries(user.attributes);
        if (entries.length > limits.attributes) add(field, `must have at most ${limits.attributes} entries`);
        for (const [key] of entries) {
          if (!attributeKeyPattern.test(key)) add(`${field}.${key}`, `key must match ${attributeKeyPattern.source}`);
        }
        break;
      }
      case "state":
        if (!(user.state in State) || user.state === State.UNSPECIFIED) add(field, "must be a valid state");
        break;
      default:
        break;
    }
  }
  if (problems.length > 0) throw invalidArgument(problems);
}
