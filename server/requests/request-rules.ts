import type { DescEnum, DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { FieldViolation } from "../../shared/errors.js";
import { fieldModel } from "../../shared/field-model.js";
import { type TextRule, textProblem } from "../validation/text.js";
import { formatProblems } from "../validation/user-validation.js";

/**
 * What every request may carry, checked from the descriptors in one place
 * (the request check interceptor) before any handler runs:
 *
 * - enum fields hold a value their enum defines (proto3 enums are open: a
 *   client may send any number), and list elements are not the enum's zero
 *   value, which means "not set";
 * - every string is bounded, in code points, and free of control characters
 *   (see TextRule): by its `roster.v1.field` annotation in the proto
 *   (max_length, multiline, format) where it has one, by `textRules` where
 *   a field has its own limit, by `defaultTextRule` otherwise;
 * - google.protobuf.Timestamp and Duration values are in the range the
 *   protobuf specification defines.
 *
 * Map keys are checked where they are decoded (see
 * transport/request-decoding.ts) and by their own patterns (attribute and
 * setting keys). The values of google.protobuf.Struct and Value
 * (settings) are JSON, bounded by the settings' own byte limits, and not
 * looked into.
 */

/** Any string without a limit of its own. */
export const defaultTextRule: TextRule = { maxChars: 1000 };

/** Longest API key name (UserAccess.CreateAPIKey). */
export const apiKeyNameMaxChars = 100;
/** Longest reason of a token request. */
export const tokenRequestReasonMaxChars = 1000;
/** Longest text a user search or export filter matches. */
export const filterTextMaxChars = 200;
/**
 * Longest password any request may carry. The password policy
 * (--password-max-length) decides within it; secrets are not shown to
 * anybody, so they may hold any character.
 */
export const passwordMaxChars = 4096;

const multiline = (maxChars: number): TextRule => ({ maxChars, multiline: true });
const secret: TextRule = { maxChars: passwordMaxChars, secret: true };
const filterText: TextRule = { maxChars: filterTextMaxChars };
/** Page tokens carry the last sort value (a name of up to 200 characters) and a MAC, in base64. */
const pageToken: TextRule = { maxChars: 4096 };

/**
 * Fields with a rule of their own, by full name. A rule applies to each
 * element of a repeated field and to each value of a map.
 */
export const textRules: Readonly<Record<string, TextRule>> = {
  "roster.v1.CreateUserRequest.password": secret,
  "roster.v1.ListUsersRequest.page_token": pageToken,
  "roster.v1.SearchUsersRequest.page_token": pageToken,
  "roster.v1.SearchUsersRequest.query": filterText,
  "roster.v1.SearchUsersRequest.id_contains": filterText,
  "roster.v1.SearchUsersRequest.name_contains": filterText,
  "roster.v1.SearchUsersRequest.description_contains": filterText,
  "roster.v1.SearchUsersRequest.email_contains": filterText,
  "roster.v1.SearchUsersRequest.attributes_contain": filterText,
  "roster.v1.ExportUsersRequest.query": filterText,
  "roster.v1.ExportUsersRequest.id_contains": filterText,
  "roster.v1.ExportUsersRequest.name_contains": filterText,
  "roster.v1.ExportUsersRequest.description_contains": filterText,
  "roster.v1.ExportUsersRequest.email_contains": filterText,
  "roster.v1.ExportUsersRequest.attributes_contain": filterText,
  "roster.v1.ExportUsersRequest.after_user_id": filterText,
  "roster.v1.AuthenticateRequest.password": secret,
  "roster.v1.UpdatePasswordRequest.old_password": secret,
  "roster.v1.UpdatePasswordRequest.new_password": secret,
  "roster.v1.SendInvitationRequest.initial_password": secret,
  "roster.v1.MergeUsersRequest.new_user_token": secret,
  "roster.v1.CreateAPIKeyRequest.name": { maxChars: apiKeyNameMaxChars },
  "roster.v1.APIKey.name": { maxChars: apiKeyNameMaxChars },
  "roster.v1.CreateTokenRequestRequest.name": { maxChars: apiKeyNameMaxChars },
  "roster.v1.CreateTokenRequestRequest.reason": multiline(tokenRequestReasonMaxChars),
  "roster.v1.GrantTokenRequestRequest.note": multiline(tokenRequestReasonMaxChars),
  "roster.v1.DenyTokenRequestRequest.note": multiline(tokenRequestReasonMaxChars),
};

/**
 * Fields whose contents a handler checks element by element with
 * `requestProblems`, reporting each element on its own: Import reports an
 * invalid row as INVALID and imports the others.
 */
const checkedPerElement = new Set(["roster.v1.ImportUsersRequest.users"]);

/** JSON-valued well-known types: their strings and keys are the settings' business. */
const jsonTypes = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"]);

/** Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the Timestamp range. */
const minTimestampSeconds = -62135596800n;
const maxTimestampSeconds = 253402300799n;
/** About 10,000 years, the Duration range. */
const maxDurationSeconds = 315576000000n;

const enumNumbers = new WeakMap<DescEnum, Set<number>>();
function definedNumbers(e: DescEnum): Set<number> {
  let numbers = enumNumbers.get(e);
  if (!numbers) {
    numbers = new Set(e.values.map((v) => v.number));
    enumNumbers.set(e, numbers);
  }
  return numbers;
}

function textRuleOf(field: DescField): TextRule {
  const annotated = fieldModel(field.parent).byName.get(field.name);
  if (annotated?.maxLength) {
    return {
      maxChars: annotated.maxLength,
      multiline: annotated.multiline,
      shape: formatProblems[annotated.format],
    };
  }
  return textRules[`${field.parent.typeName}.${field.name}`] ?? defaultTextRule;
}

type Add = (path: string, description: string) => void;

function checkEnum(e: DescEnum, value: number, path: string, inList: boolean, add: Add): void {
  if (!definedNumbers(e).has(value)) {
    add(path, `${value} is not a value of ${e.typeName}`);
  } else if (inList && value === 0) {
    add(path, `must not be ${e.values.find((v) => v.number === 0)?.name ?? "0"}`);
  }
}

function checkWellKnown(message: ReflectMessage, path: string, add: Add): boolean {
  const typeName = message.desc.typeName;
  if (typeName !== "google.protobuf.Timestamp" && typeName !== "google.protobuf.Duration") return false;
  const { seconds, nanos } = message.message as unknown as { seconds: bigint; nanos: number };
  if (typeName === "google.protobuf.Timestamp") {
    if (seconds < minTimestampSeconds || seconds > maxTimestampSeconds || nanos < 0 || nanos > 999_999_999) {
      add(path, "must be a time between the years 1 and 9999");
    }
  } else if (
    seconds < -maxDurationSeconds ||
    seconds > maxDurationSeconds ||
    nanos < -999_999_999 ||
    nanos > 999_999_999 ||
    (seconds > 0n && nanos < 0) ||
    (seconds < 0n && nanos > 0)
  ) {
    add(path, "must be a duration of at most 10,000 years, with seconds and nanos of one sign");
  }
  return true;
}

function checkMessage(message: ReflectMessage, prefix: string, add: Add): void {
  if (jsonTypes.has(message.desc.typeName) || checkWellKnown(message, prefix.slice(0, -1), add)) return;
  for (const field of message.fields) {
    if (!message.isSet(field) || checkedPerElement.has(`${field.parent.typeName}.${field.name}`)) continue;
    const path = prefix + field.name;
    switch (field.fieldKind) {
      case "scalar":
        if (typeof message.get(field) === "string") {
          const problem = textProblem(message.get(field) as string, textRuleOf(field));
          if (problem) add(path, problem);
        }
        break;
      case "enum":
        checkEnum(field.enum, message.get(field), path, false, add);
        break;
      case "message":
        checkMessage(message.get(field), `${path}.`, add);
        break;
      case "list": {
        let i = 0;
        for (const item of message.get(field)) {
          const itemPath = `${path}[${i++}]`;
          if (field.listKind === "enum") checkEnum(field.enum, item as number, itemPath, true, add);
          else if (field.listKind === "message") checkMessage(item as ReflectMessage, `${itemPath}.`, add);
          else if (typeof item === "string") {
            const problem = textProblem(item, textRuleOf(field));
            if (problem) add(itemPath, problem);
          }
        }
        break;
      }
      case "map": {
        const keyPattern = fieldModel(field.parent).byName.get(field.name)?.keyPattern;
        for (const [key, value] of message.get(field)) {
          const valuePath = `${path}.${String(key)}`;
          if (keyPattern && !keyPattern.test(String(key))) {
            add(valuePath, `key must match ${keyPattern.source}`);
            continue;
          }
          if (field.mapKind === "enum") checkEnum(field.enum, value as number, valuePath, false, add);
          else if (field.mapKind === "message") checkMessage(value as ReflectMessage, `${valuePath}.`, add);
          else if (typeof value === "string") {
            const problem = textProblem(value, textRuleOf(field));
            if (problem) add(valuePath, problem);
          }
        }
        break;
      }
    }
  }
}

/**
 * Every violation of the rules above in `message`, each naming its field
 * path (`user.name`, `rights[2]`, `attributes.team`), prefixed by `prefix`.
 */
export function requestProblems<Desc extends DescMessage>(
  schema: Desc,
  message: Message,
  prefix = "",
): FieldViolation[] {
  const problems: FieldViolation[] = [];
  checkMessage(reflect(schema, message as never), prefix, (field, description) =>
    problems.push({ field, description }),
  );
  return problems;
}
