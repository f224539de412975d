import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromJson,
  type JsonValue,
  ScalarType,
} from "@bufbuild/protobuf";
import type { Options } from "yargs";
import { FieldBehavior } from "../gen/google/api/field_behavior_pb.js";
import { parseDuration } from "../shared/duration.js";
import { fieldBehaviors } from "../shared/field-model.js";
import { isScalarLike, shortEnumName, shortEnumNames } from "./descriptors.js";
import { commentOf } from "./proto-comments.js";

/** A command-line flag that stands for one field of a message. */
export interface FieldFlag {
  /** The flag without its dashes: `display-name`, `profile.theme`. */
  name: string;
  /** The field mask path, relative to the message: `display_name`, `profile.theme`. */
  path: string;
  /** The field at the end of the path. */
  field: DescField;
  option: Options;
}

/** How deep flags follow nested messages; recursive types stop here. */
const maxDepth = 4;

/** `display_name` → `display-name`, `a.b_c` → `a.b-c`. */
export function flagName(path: string): string {
  return path.replaceAll("_", "-");
}

/**
 * A name for a derived flag that no flag of higher priority holds: the
 * preferred one, or with `prefix` when it is taken. Deriving flags from
 * several messages (a search request's filters and the user's fields) can
 * give two flags one name; the caller decides which keeps it.
 */
export function claimName(preferred: string, prefix: string, taken: Set<string>): string {
  let name = preferred;
  if (taken.has(name)) name = `${prefix}-${preferred}`;
  if (taken.has(name)) throw new Error(`flag --${name} is derived twice`);
  taken.add(name);
  return name;
}

/** The field's comment on one line: the help of its flag. */
function oneLine(field: DescField): string {
  return commentOf(field).join(" ");
}

/** Whether the server sets the field and a client never does: `(google.api.field_behavior) = OUTPUT_ONLY`. */
export function isOutputOnly(field: DescField): boolean {
  return fieldBehaviors(field).includes(FieldBehavior.OUTPUT_ONLY);
}

/** Whether the field is set once, at creation: IMMUTABLE or IDENTIFIER. */
export function isImmutable(field: DescField): boolean {
  const behaviors = fieldBehaviors(field);
  return behaviors.includes(FieldBehavior.IMMUTABLE) || behaviors.includes(FieldBehavior.IDENTIFIER);
}

/** AIP-154: an `etag` field is a precondition of a change, never a path of its mask. */
export function isEtag(field: DescField): boolean {
  return field.name === "etag" && field.fieldKind === "scalar" && field.scalar === ScalarType.STRING;
}

function walk(
  message: DescMessage,
  visit: (field: DescField, path: string) => "descend" | "stop",
  prefix = "",
  depth = 0,
): void {
  for (const field of message.fields) {
    const path = prefix + field.name;
    if (visit(field, path) === "descend" && field.fieldKind === "message" && depth + 1 < maxDepth) {
      walk(field.message, visit, `${path}.`, depth + 1);
    }
  }
}

/**
 * One boolean flag per field of `message` (and per field of nested
 * messages, with dots) that selects it in a read mask.
 */
export function selectFlags(message: DescMessage, taken: Set<string>): FieldFlag[] {
  const flags: FieldFlag[] = [];
  walk(message, (field, path) => {
    flags.push({
      name: claimName(flagName(path), "select", taken),
      path,
      field,
      option: { type: "boolean", describe: oneLine(field) },
    });
    return field.fieldKind === "message" && !isScalarLike(field.message) ? "descend" : "stop";
  });
  return flags;
}

/** Which fields of a message a command sets. */
export interface SettableOptions {
  /** Paths set otherwise (positional arguments); they get no flag. */
  exclude?: readonly string[];
  /** Also leave out fields that are only set at creation (for updates). */
  skipImmutable?: boolean;
}

/**
 * One typed flag per field of `message` that a client may set: scalars,
 * enums by name, timestamps and other well-known types in their JSON form,
 * repeated fields by repeating the flag, maps as `key=value`, nested
 * messages field by field. Output-only fields get none.
 */
export function setFlags(message: DescMessage, taken: Set<string>, options: SettableOptions = {}): FieldFlag[] {
  const flags: FieldFlag[] = [];
  walk(message, (field, path) => {
    if (options.exclude?.includes(path) || isOutputOnly(field)) return "stop";
    if (options.skipImmutable && isImmutable(field)) return "stop";
    if (field.fieldKind === "message" && !isScalarLike(field.message)) return "descend";
    if (!canBeFlag(field)) return "stop";
    const name = claimName(flagName(path), "set", taken);
    flags.push({ name, path, field, option: valueOption(field, `--${name}`) });
    return "stop";
  });
  return flags;
}

/**
 * Flags for the fields of a request message itself (filters, order,
 * paging, options), except those the command fills in otherwise.
 */
export function requestFlags(request: DescMessage, taken: Set<string>, consumed: readonly string[]): FieldFlag[] {
  return setFlags(request, taken, { exclude: consumed }).filter(
    (f) => !consumed.some((c) => f.path.startsWith(`${c}.`)),
  );
}

/** Whether a flag can express the field's value: all but lists and maps of messages. */
function canBeFlag(field: DescField): boolean {
  if (field.fieldKind === "list" && field.listKind === "message") return isScalarLike(field.message);
  if (field.fieldKind === "map" && field.mapKind === "message") return isScalarLike(field.message);
  return true;
}

/**
 * The yargs option of a value flag. Its `coerce` turns the text into the
 * field's proto3 JSON value, or throws a message that names `flag`.
 */
export function valueOption(field: DescField, flag: string): Options {
  const describe = oneLine(field);
  switch (field.fieldKind) {
    case "scalar":
      return scalarOption(field.scalar, describe, (v) => scalarJson(field.scalar, v, flag));
    case "enum":
      return enumOption(field.enum, describe, false, flag);
    case "message":
      return {
        type: "string",
        describe: `${describe} ${wktHint(field.message)}`.trim(),
        coerce: (v: unknown) => wktJson(field.message, last(v), flag),
      };
    case "list":
      if (field.listKind === "message") {
        const message = field.message;
        return {
          type: "string",
          array: true,
          describe: `${describe} ${wktHint(message)} Repeat the flag for several.`.trim(),
          coerce: (v: unknown) => asArray(v).map((x) => wktJson(message, x, flag)),
        };
      }
      if (field.listKind === "enum") return enumOption(field.enum, describe, true, flag);
      return listOption(field.scalar, describe, flag);
    case "map":
      return mapOption(field, describe, flag);
  }
}

function last(value: unknown): string {
  // A flag given twice arrives as an array; like most CLIs, the last one wins.
  return String(Array.isArray(value) ? value.at(-1) : value);
}

function asArray(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(String);
}

function isLong(scalar: ScalarType): boolean {
  return [ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64].includes(
    scalar,
  );
}

function isInteger32(scalar: ScalarType): boolean {
  return [ScalarType.INT32, ScalarType.UINT32, ScalarType.SINT32, ScalarType.FIXED32, ScalarType.SFIXED32].includes(
    scalar,
  );
}

/** A flag value as the proto3 JSON value of a scalar field; throws a message for the user. */
export function scalarJson(scalar: ScalarType, value: unknown, name: string): string | number | boolean {
  if (scalar === ScalarType.BOOL) return typeof value === "boolean" ? value : parseBool(last(value), name);
  const text = last(value);
  if (scalar === ScalarType.STRING || scalar === ScalarType.BYTES) return text;
  // yargs has already made NaN of what is not a number.
  if (text === "NaN") throw new Error(`${name} must be a number`);
  if (isLong(scalar)) {
    if (!/^-?\d+$/.test(text)) throw new Error(`${name} must be an integer, not "${text}"`);
    return text;
  }
  const n = Number(text);
  if (text.trim() === "" || Number.isNaN(n)) throw new Error(`${name} must be a number, not "${text}"`);
  if (isInteger32(scalar) && !Number.isInteger(n)) throw new Error(`${name} must be an integer, not "${text}"`);
  return n;
}

function parseBool(text: string, name: string): boolean {
  if (/^(true|yes|1)$/i.test(text)) return true;
  if (/^(false|no|0)$/i.test(text)) return false;
  throw new Error(`${name} must be true or false, not "${text}"`);
}

function scalarOption(scalar: ScalarType, describe: string, coerce: (v: unknown) => unknown): Options {
  if (scalar === ScalarType.BOOL) return { type: "boolean", describe, coerce };
  if (scalar === ScalarType.STRING) return { type: "string", requiresArg: true, describe, coerce };
  if (scalar === ScalarType.BYTES)
    return { type: "string", requiresArg: true, describe: `${describe} (base64)`, coerce };
  // 64-bit integers stay strings: a JavaScript number cannot hold all of them.
  if (isLong(scalar)) return { type: "string", requiresArg: true, describe: `${describe} (integer)`, coerce };
  return { type: "number", requiresArg: true, describe, coerce };
}

function listOption(scalar: ScalarType, describe: string, name: string): Options {
  return {
    type: scalar === ScalarType.BOOL ? "boolean" : "string",
    array: true,
    describe: `${describe} Repeat the flag for several.`,
    coerce: (v: unknown) => (Array.isArray(v) ? v : [v]).map((x) => scalarJson(scalar, x, name)),
  };
}

/** The full name of an enum value given with or without its prefix, in any case, with dashes or underscores. */
export function enumValueName(desc: DescEnum, text: string, name: string): string {
  // Dashes for underscores, as in flag names: --clear-tokens login-only.
  const wanted = text.trim().toUpperCase().replaceAll("-", "_");
  const value = desc.values.find(
    (v) => v.number !== 0 && (v.name === wanted || shortEnumName(desc, v.name).toUpperCase() === wanted),
  );
  if (!value) throw new Error(`${name} must be one of ${shortEnumNames(desc).join(", ")}, not "${text}"`);
  return value.name;
}

function enumOption(desc: DescEnum, describe: string, repeated: boolean, flag: string): Options {
  const names = shortEnumNames(desc).join(", ");
  if (!repeated) {
    return {
      type: "string",
      requiresArg: true,
      describe: `${describe} One of ${names}.`,
      coerce: (v: unknown) => enumValueName(desc, last(v), flag),
    };
  }
  return {
    type: "string",
    array: true,
    describe: `${describe} Any of ${names}; repeat the flag or separate with commas.`,
    coerce: (v: unknown) =>
      asArray(v)
        .flatMap((x) => x.split(","))
        .filter(Boolean)
        .map((x) => enumValueName(desc, x, flag)),
  };
}

function wktHint(message: DescMessage): string {
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      return "(RFC 3339, such as 2024-05-01T12:00:00Z, or a duration ago, such as 1h or 7d)";
    case "google.protobuf.Duration":
      return "(such as 90s, 15m, 24h, 7d or 1h30m)";
    case "google.protobuf.FieldMask":
      return "(comma-separated field paths)";
    case "google.protobuf.Struct":
      return '(a JSON object, such as {"theme":"dark"})';
    case "google.protobuf.Value":
      return "(JSON, or plain text for a string)";
    default:
      return "";
  }
}

/**
 * The flag value of a well-known type as its JSON value: the text parsed as
 * JSON (`42`, `{"a":1}`, `true`) when the type takes that, otherwise the
 * text as a JSON string (`2024-05-01T12:00:00Z`, `dark` for a Value).
 */
export function wktJson(message: DescMessage, text: string, name: string): JsonValue {
  const candidates: JsonValue[] = [text];
  if (message.typeName === "google.protobuf.Duration" && /^\s*(\d+(\.\d+)?(ms|s|m|h|d))+\s*$/.test(text)) {
    // People write 7d and 1h30m; the JSON form wants seconds.
    candidates.unshift(`${parseDuration(text) / 1000}s`);
  }
  if (message.typeName === "google.protobuf.Timestamp" && /^\s*(\d+(\.\d+)?(ms|s|m|h|d))+\s*$/.test(text)) {
    // `--since 1h`: that long ago.
    candidates.unshift(new Date(Date.now() - parseDuration(text)).toISOString());
  }
  try {
    candidates.unshift(JSON.parse(text) as JsonValue);
  } catch {
    // Not JSON: only the text itself is a candidate.
  }
  for (const candidate of candidates) {
    try {
      fromJson(message, candidate);
      return candidate;
    } catch {
      // Try the next reading.
    }
  }
  throw new Error(`${name} must be a ${message.name} ${wktHint(message)}, not "${text}"`.replace("  ", " "));
}

function mapOption(field: DescField & { fieldKind: "map" }, describe: string, flag: string): Options {
  const value = (text: string): unknown => {
    switch (field.mapKind) {
      case "scalar":
        return scalarJson(field.scalar, text, flag);
      case "enum":
        return enumValueName(field.enum, text, flag);
      case "message":
        return wktJson(field.message, text, flag);
    }
  };
  return {
    type: "string",
    array: true,
    describe: `${describe} As key=value; repeat the flag for several.`,
    coerce: (v: unknown) => {
      const entries: Record<string, unknown> = {};
      for (const item of asArray(v)) {
        const eq = item.indexOf("=");
        if (eq <= 0) throw new Error(`${flag} takes key=value, not "${item}"`);
        entries[item.slice(0, eq)] = value(item.slice(eq + 1));
      }
      return entries;
    },
  };
}

/** Put `value` at a dotted path of a JSON object, making the objects on the way. */
export function setJsonPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
}
