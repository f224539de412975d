import type { DescField, DescMessage, JsonObject, JsonValue } from "@bufbuild/protobuf";
import { fieldModel } from "../shared/field-model.js";
import { isScalarLike } from "./descriptors.js";
import { enumValueName, scalarJson, wktJson } from "./field-flags.js";

/** One column of a CSV of records: a field of the record, or of a message inside it. */
export interface RecordColumn {
  /** The header: the field's name, or its dotted path when two fields share a name. */
  name: string;
  /** Field names from the record down. */
  path: string[];
  field: DescField;
}

/**
 * The columns of a CSV of `record` messages, in field order: a field of a
 * message type (a UserRecord's `user`) gives one column per field of its
 * own (`user_id`, `name`, ...), any other field one column (`password_hash`).
 * Values are their proto3 JSON form: text as is, enums by name, timestamps
 * in RFC 3339, and maps, lists and other messages as JSON text. Computed
 * fields (a User's `token_status`) have no column: nothing stores them.
 */
export function recordColumns(record: DescMessage): RecordColumn[] {
  const columns: RecordColumn[] = [];
  const flat: [DescField, string[]][] = [];
  for (const field of record.fields) {
    if (field.fieldKind === "message" && !isScalarLike(field.message)) {
      const model = fieldModel(field.message);
      for (const inner of model.fields) if (!inner.computed) flat.push([inner.desc, [field.name, inner.name]]);
    } else {
      flat.push([field, [field.name]]);
    }
  }
  const counts = new Map<string, number>();
  for (const [field] of flat) counts.set(field.name, (counts.get(field.name) ?? 0) + 1);
  for (const [field, path] of flat) {
    columns.push({ name: (counts.get(field.name) ?? 0) > 1 ? path.join(".") : field.name, path, field });
  }
  return columns;
}

/**
 * Record fields an export never fills (UserRecord's `api_key`: a token from
 * another system, stored only as a hash), so exports have no column for them.
 */
const importOnlyFields = new Set(["api_key"]);

/**
 * The columns of an export that asked for `readPaths` of the record's
 * field `select`: that message's first field (its id) and the paths asked
 * for, plus the record's other fields; every column when none were asked for.
 */
export function selectedColumns(
  all: readonly RecordColumn[],
  select: string | undefined,
  readPaths: readonly string[],
): RecordColumn[] {
  const columns = all.filter((c) => !importOnlyFields.has(c.path.join(".")));
  if (readPaths.length === 0 || select === undefined) return [...columns];
  const wanted = new Set(readPaths.map((p) => p.split(".")[0]));
  const inSelect = columns.filter((c) => c.path[0] === select && c.path.length > 1);
  const first = inSelect[0]?.path[1];
  return columns.filter((c) => c.path[0] !== select || c.path[1] === first || wanted.has(c.path[1] as string));
}

/** The cells of one record, given as proto3 JSON with proto field names. */
export function recordCells(json: JsonObject, columns: readonly RecordColumn[]): string[] {
  return columns.map((column) => {
    let value: JsonValue | undefined = json;
    for (const part of column.path) {
      value = value && typeof value === "object" && !Array.isArray(value) ? value[part] : undefined;
    }
    if (value === undefined || value === null) return "";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  });
}

/**
 * A row of cells back as the record's proto3 JSON. An empty cell leaves
 * its field out (its default). Throws a message naming the column for a
 * cell that is not a value of its field's type.
 */
export function recordJson(cells: readonly string[], columns: readonly RecordColumn[]): JsonObject {
  const json: JsonObject = {};
  columns.forEach((column, i) => {
    const text = cells[i] ?? "";
    if (text === "") return;
    let node = json;
    for (const part of column.path.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as JsonObject;
    }
    node[column.path.at(-1) as string] = cellJson(column.field, text, column.name);
  });
  return json;
}

function cellJson(field: DescField, text: string, column: string): JsonValue {
  switch (field.fieldKind) {
    case "scalar":
      return scalarJson(field.scalar, text, column);
    case "enum":
      return enumValueName(field.enum, text, column);
    case "message":
      return isScalarLike(field.message) ? wktJson(field.message, text, column) : parseJson(text, column, "object");
    case "list":
      return parseJson(text, column, "array");
    case "map":
      return parseJson(text, column, "object");
  }
}

function parseJson(text: string, column: string, kind: "object" | "array"): JsonValue {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${column} must be a JSON ${kind}, not "${text}"`);
  }
  const isArray = Array.isArray(value);
  if (value === null || typeof value !== "object" || isArray !== (kind === "array")) {
    throw new Error(`${column} must be a JSON ${kind}, not "${text}"`);
  }
  return value as JsonValue;
}
