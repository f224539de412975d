import { extname } from "node:path";
import { type DescMessage, type FileRegistry, fromJson, type JsonObject, type Message } from "@bufbuild/protobuf";
import { parse } from "csv-parse/sync";
import { layouts, mapColumns, parseColumnMappings } from "./column-mapping.js";
import { type RecordColumn, recordColumns, recordJson } from "./csv-records.js";
import { UsageError } from "./errors.js";
import { recordFromForeign, usersOfDocument } from "./foreign-records.js";

/** The format a file name implies: `.csv`, `.ndjson` (or `.jsonl`), `.json`. */
export function formatOfFile(file: string | undefined): "csv" | "ndjson" | "json" | undefined {
  switch (extname(file ?? "").toLowerCase()) {
    case ".csv":
      return "csv";
    case ".ndjson":
    case ".jsonl":
      return "ndjson";
    case ".json":
      return "json";
    default:
      return undefined;
  }
}

/** A record read from the file, with the line it is on. */
export interface Row {
  line: number;
  record: Message;
}

/** How the CSV's columns are read: from --column, --no-header and --layout. */
export interface CsvLayout {
  mappings: ReadonlyMap<string, string>;
  header: boolean;
}

export function csvLayout(argv: Record<string, unknown>): CsvLayout {
  const layoutName = typeof argv.layout === "string" ? argv.layout : undefined;
  const layout = layoutName ? layouts[layoutName] : undefined;
  if (layoutName && !layout)
    throw new UsageError(`unknown --layout ${layoutName}; one of ${Object.keys(layouts).join(", ")}`);
  const given = ([] as unknown[]).concat(argv.column ?? []).map(String);
  const mappings = new Map([...Object.entries(layout?.columns ?? {}), ...parseColumnMappings(given)]);
  return { mappings, header: argv.header === false ? false : (layout?.header ?? true) };
}

/**
 * The records of a CSV, NDJSON or JSON text, each with its line (its place
 * in a JSON array, from 1), and a problem line for each row that is not a
 * record of `recordType` (a cell not of its field's type, a line that is
 * not a JSON object). Other systems' names for fields are read as Roster's
 * (foreign-records.ts).
 */
export function readRows(
  text: string,
  format: string,
  recordType: DescMessage,
  registry: FileRegistry,
  layout: CsvLayout,
): { rows: Row[]; problems: string[] } {
  const rows: Row[] = [];
  const problems: string[] = [];
  const add = (line: number, json: JsonObject) => {
    try {
      rows.push({ line, record: fromJson(recordType, recordFromForeign(json), { registry }) });
    } catch (err) {
      problems.push(`line ${line}: ${(err as Error).message}`);
    }
  };
  if (format === "json") {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`not a JSON file: ${(err as Error).message}`);
    }
    const users = usersOfDocument(doc);
    if (!users) throw new UsageError('a JSON import is an array of users, or an object whose "users" holds them');
    users.forEach((json, i) => {
      if (json === null || typeof json !== "object" || Array.isArray(json)) {
        problems.push(`row ${i + 1}: not a JSON object`);
        return;
      }
      add(i + 1, json as JsonObject);
    });
    return { rows, problems };
  }
  if (format === "ndjson") {
    text.split("\n").forEach((content, i) => {
      if (content.trim() === "") return;
      let json: unknown;
      try {
        json = JSON.parse(content);
      } catch (err) {
        problems.push(`line ${i + 1}: not JSON: ${(err as Error).message}`);
        return;
      }
      if (json === null || typeof json !== "object" || Array.isArray(json)) {
        problems.push(`line ${i + 1}: not a JSON object`);
        return;
      }
      add(i + 1, json as JsonObject);
    });
    return { rows, problems };
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as typeof records;
  } catch (err) {
    throw new UsageError(`not a CSV file: ${(err as Error).message}`);
  }
  const first = records[0];
  if (!first) return { rows, problems };
  const data = layout.header ? records.slice(1) : records;
  const columns = mapColumns(first.record, recordColumns(recordType), layout.mappings, !layout.header);
  const kept = columns.filter((c): c is RecordColumn => c !== null);
  for (const { record, info } of data) {
    if (record.length !== columns.length) {
      const has = layout.header ? "the header names" : "the file has";
      problems.push(`line ${info.lines}: ${record.length} cells, but ${has} ${columns.length} columns`);
      continue;
    }
    let json: JsonObject;
    try {
      json = recordJson(
        record.filter((_, i) => columns[i] !== null),
        kept,
      );
    } catch (err) {
      problems.push(`line ${info.lines}: ${(err as Error).message}`);
      continue;
    }
    add(info.lines, json);
  }
  return { rows, problems };
}

/**
 * csv, ndjson or json: from --format, the file's extension, or the content
 * (`[`: a JSON array; `{`: NDJSON, unless the whole is one object holding
 * `users`, as Wallaroo's /users/query answers).
 */
export function importFormatOf(argv: Record<string, unknown>, file: string | undefined, text: string): string {
  if (typeof argv.format === "string") return argv.format;
  const byName = formatOfFile(file);
  if (byName) return byName;
  const start = text.trimStart();
  if (start.startsWith("[")) return "json";
  if (!start.startsWith("{")) return "csv";
  try {
    return usersOfDocument(JSON.parse(text)) ? "json" : "ndjson";
  } catch {
    return "ndjson";
  }
}
