import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import {
  clone,
  type DescField,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
  fromJson,
  type JsonObject,
  type Message,
} from "@bufbuild/protobuf";
import { parse } from "csv-parse/sync";
import { layouts, mapColumns, parseColumnMappings } from "./column-mapping.js";
import { type RecordColumn, recordColumns, recordJson } from "./csv-records.js";
import { CliError, UsageError } from "./errors.js";
import { recordFromForeign, usersOfDocument } from "./foreign-records.js";
import { messageJson } from "./output.js";
import { canShowProgress, startProgress } from "./progress.js";
import { canPrompt, readStdin } from "./prompt.js";
import { formatOfFile } from "./record-export.js";
import type { Settings } from "./settings.js";
import { openConnection } from "./transport.js";

export interface ImportOptions {
  settings: Settings;
  registry: FileRegistry;
  method: DescMethod;
  /** The request with its flags set; each batch is a copy with its rows. */
  request: Message;
  argv: Record<string, unknown>;
  /** The request's repeated field of records (`users`). */
  field: string;
  /** The request field numbering the batch's first row (`first_row_number`). */
  rowNumber?: string;
  /** Summary counts that fail the command, with their exit codes. */
  failures?: Readonly<Record<string, number>>;
}

/** A record read from the file, with the line it is on. */
interface Row {
  line: number;
  record: Message;
}

/** Most rows one call of the server takes. */
const maxBatchSize = 1000;

/** How the CSV's columns are read: from --column, --no-header and --layout. */
interface CsvLayout {
  mappings: ReadonlyMap<string, string>;
  header: boolean;
}

function csvLayout(argv: Record<string, unknown>): CsvLayout {
  const layoutName = typeof argv.layout === "string" ? argv.layout : undefined;
  const layout = layoutName ? layouts[layoutName] : undefined;
  if (layoutName && !layout)
    throw new UsageError(`unknown --layout ${layoutName}; one of ${Object.keys(layouts).join(", ")}`);
  const given = ([] as unknown[]).concat(argv.column ?? []).map(String);
  const mappings = new Map([...Object.entries(layout?.columns ?? {}), ...parseColumnMappings(given)]);
  return { mappings, header: argv.header === false ? false : (layout?.header ?? true) };
}

function readRows(text: string, format: string, recordType: DescMessage, registry: FileRegistry, layout: CsvLayout) {
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
    // Rows are numbered by their place in the array, from 1.
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
function formatOf(argv: Record<string, unknown>, file: string | undefined, text: string): string {
  if (typeof argv.format === "string") return argv.format;
  const byName = formatOfFile(file);
  if (byName === "csv" || byName === "ndjson" || byName === "json") return byName;
  const start = text.trimStart();
  if (start.startsWith("[")) return "json";
  if (!start.startsWith("{")) return "csv";
  try {
    return usersOfDocument(JSON.parse(text)) ? "json" : "ndjson";
  } catch {
    return "ndjson";
  }
}

/**
 * Fill the request's repeated field from a CSV, NDJSON or JSON file in batches,
 * write each response's results as NDJSON lines (the report), and sum the
 * response's counts on stderr. Rows that cannot be read as records (a cell
 * that is not of its field's type, a line that is not JSON) are named on
 * stderr before anything is sent.
 */
export async function importBatches(options: ImportOptions): Promise<void> {
  const { settings, registry, method, argv } = options;
  const listField = method.input.fields.find((f) => f.name === options.field);
  if (listField?.fieldKind !== "list" || listField.listKind !== "message") {
    throw new Error(`${method.input.typeName}.${options.field} is not a list of messages`);
  }
  const batchSize = Number(argv["batch-size"] ?? 100);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatchSize) {
    throw new UsageError(`--batch-size must be an integer from 1 to ${maxBatchSize}`);
  }
  const file = typeof argv.file === "string" ? argv.file : undefined;
  if (!file && canPrompt()) throw new UsageError("give the file with --file, or pipe the rows into stdin");
  let text: string;
  try {
    text = file ? readFileSync(file, "utf8") : await readStdin();
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const format = formatOf(argv, file, text);
  const { rows, problems } = readRows(text, format, listField.message, registry, csvLayout(argv));
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    throw new UsageError(`${problems.length} rows of ${file ?? "stdin"} cannot be read; nothing was sent`);
  }

  const output = method.output;
  const resultsField = output.fields.find((f) => f.fieldKind === "list" && f.listKind === "message");
  const summaryField = output.fields.find((f) => f.fieldKind === "message");
  const rowNumberField = options.rowNumber ? method.input.fields.find((f) => f.name === options.rowNumber) : undefined;
  // The results number rows as the request does, without its "first_": row_number.
  const resultRowField = options.rowNumber?.replace(/^first_/, "");
  const totals = new Map<string, bigint>();
  let dryRun = false;

  const report: Writable = typeof argv.report === "string" ? createWriteStream(argv.report) : process.stdout;
  const progress = await startProgress({
    total: rows.length,
    noun: "rows",
    rate: true,
    visible: canShowProgress(report === process.stdout),
  });
  const connection = await openConnection(settings, registry);
  let done = 0;
  try {
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const request = clone(method.input, options.request) as unknown as Record<string, unknown>;
      request[listField.localName] = batch.map((r) => r.record);
      if (rowNumberField) request[rowNumberField.localName] = BigInt(batch[0]?.line ?? 1);
      let message: Message;
      try {
        ({ message } = await connection.unary(method, request as unknown as Message));
      } catch (err) {
        if (done > 0) {
          process.stderr.write(
            `note: the rows before line ${batch[0]?.line} were sent; importing the file again does not change them\n`,
          );
        }
        throw err;
      }
      const response = message as unknown as Record<string, unknown>;
      const lines: string[] = [];
      for (const result of (resultsField ? response[resultsField.localName] : []) as Message[]) {
        const json = messageJson(resultsField?.message as DescMessage, result, registry, "all");
        // The server counts rows from the batch's first line; a row spanning lines, or a
        // blank line skipped, would put the rest off: name each row by its own line.
        if (resultRowField && json[resultRowField] !== undefined) {
          const index = Number(json[resultRowField]) - (batch[0]?.line ?? 1);
          const row = batch[index];
          if (row) json[resultRowField] = String(row.line);
        }
        lines.push(`${JSON.stringify(json)}\n`);
      }
      if (!report.write(lines.join(""))) await once(report, "drain");
      if (summaryField) addCounts(totals, summaryField, response[summaryField.localName] as Message | undefined);
      dryRun ||= response.dryRun === true;
      done += batch.length;
      progress.update(done);
    }
  } finally {
    progress.stop();
    connection.close();
    if (report !== process.stdout) {
      report.end();
      await once(report, "close");
    }
  }
  if (summaryField)
    process.stderr.write(
      `${summaryLine(summaryField, totals, rows.length)}${dryRun ? " (dry run: nothing was written)" : ""}\n`,
    );
  for (const [name, code] of Object.entries(options.failures ?? {})) {
    const count = totals.get(name) ?? 0n;
    if (count > 0n) throw new CliError(`${count} ${count === 1n ? "row" : "rows"} ${name}: see the report`, code);
  }
}

function addCounts(totals: Map<string, bigint>, field: DescField, summary: Message | undefined): void {
  if (!summary || field.fieldKind !== "message") return;
  const values = summary as unknown as Record<string, unknown>;
  for (const f of field.message.fields) {
    const value = values[f.localName];
    if (typeof value === "bigint" || typeof value === "number") {
      totals.set(f.name, (totals.get(f.name) ?? 0n) + BigInt(value));
    }
  }
}

/** `12 rows: 10 created, 0 updated, ...`: the summary's first count, then the others. */
function summaryLine(field: DescField, totals: Map<string, bigint>, rows: number): string {
  if (field.fieldKind !== "message") return "";
  const [first, ...rest] = field.message.fields;
  const head = `${totals.get(first?.name ?? "") ?? BigInt(rows)} ${first?.name ?? "rows"}`;
  return `${head}: ${rest.map((f) => `${totals.get(f.name) ?? 0n} ${f.name}`).join(", ")}`;
}
