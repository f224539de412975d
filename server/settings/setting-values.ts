import { fromJson, type JsonObject, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";
import type { FieldViolation } from "../../shared/errors.js";

/**
 * Setting keys: a letter or digit, then letters, digits, `_` and `-`, at
 * most 64 in all. Never `$`-prefixed or dotted, so a key is safe as a
 * document field name, and never `__proto__`.
 */
export const settingKeyPattern = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

/** Limits of one user's settings. */
export const settingLimits = {
  /** Settings per user. */
  count: 100,
  /** Bytes of one value as JSON text. */
  valueBytes: 16 * 1024,
  /** Nesting of objects and lists within one value. */
  depth: 32,
  /** Bytes of all of a user's values as JSON text. */
  totalBytes: 64 * 1024,
};

/** Why `key` is not a valid setting key, or undefined. */
export function settingKeyProblem(key: string): string | undefined {
  if (!key) return "is required";
  if (!settingKeyPattern.test(key)) return `must match ${settingKeyPattern.source}`;
  return undefined;
}

/** Why a value cannot be stored, or undefined: NaN and infinities are not JSON, and nesting is bounded. */
function valueProblem(value: JsonValue, depth: number): string | undefined {
  if (depth > settingLimits.depth) return `must be nested at most ${settingLimits.depth} levels deep`;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : "must be a finite number";
  if (value === null || typeof value !== "object") return undefined;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const problem = valueProblem(item, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The stored form of a value: JSON text. `field` names the value in
 * problems; returns the text, or adds a problem and returns undefined.
 */
export function storedValue(
  value: JsonValue | undefined,
  field: string,
  problems: FieldViolation[],
): string | undefined {
  const problem = value === undefined ? "is required (a JSON value)" : valueProblem(value, 1);
  if (problem) {
    problems.push({ field, description: problem });
    return undefined;
  }
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > settingLimits.valueBytes) {
    problems.push({ field, description: `must be at most ${settingLimits.valueBytes} bytes as JSON` });
    return undefined;
  }
  return text;
}

/** The stored form of a google.protobuf.Value, as `storedValue`. */
export function storedValueOf(value: Value | undefined, field: string, problems: FieldViolation[]): string | undefined {
  let json: JsonValue | undefined;
  try {
    json = value && toJson(ValueSchema, value);
  } catch {
    // A Value without a kind, or a NaN or infinite number, has no JSON form.
    problems.push({ field, description: "must be a JSON value (not empty, no NaN or infinities)" });
    return undefined;
  }
  return storedValue(json, field, problems);
}

/** The JSON form of a stored value. */
export function valueFromStored(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

/** A stored value as a google.protobuf.Value. */
export function valueMessageFromStored(text: string): Value {
  return fromJson(ValueSchema, valueFromStored(text));
}

/** All stored values as one JSON object, keys in sorted order. */
export function objectFromStored(values: Readonly<Record<string, string>>): JsonObject {
  const object: JsonObject = {};
  for (const key of Object.keys(values).sort()) object[key] = valueFromStored(values[key] as string);
  return object;
}

/**
 * Problems with a user's complete set of values: their count and total
 * size, reported on the request fields that caused them.
 */
export function settingsProblems(
  values: Readonly<Record<string, string>>,
  fields: { count: string; size: string },
): FieldViolation[] {
  const keys = Object.keys(values);
  const problems: FieldViolation[] = [];
  if (keys.length > settingLimits.count) {
    problems.push({ field: fields.count, description: `a user may have at most ${settingLimits.count} settings` });
  }
  const total = keys.reduce((sum, k) => sum + Buffer.byteLength(values[k] as string), 0);
  if (total > settingLimits.totalBytes) {
    problems.push({
      field: fields.size,
      description: `all values together must be at most ${settingLimits.totalBytes} bytes as JSON`,
    });
  }
  return problems;
}
