import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import type { Writable } from "node:stream";
import {
  clone,
  type DescField,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
  type Message,
} from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { CliError, UsageError } from "./errors.js";
import { messageJson, messagesOf } from "./output.js";
import { canShowProgress, startProgress } from "./progress.js";
import { canPrompt, readStdin } from "./prompt.js";
import { csvLayout, importFormatOf, readRows } from "./record-rows.js";
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

/** Most rows one call of the server takes. */
const maxBatchSize = 1000;

/**
 * Fill the request's repeated field from a CSV or NDJSON file in batches,
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
  const format = importFormatOf(argv, file, text);
  const { rows, problems } = readRows(text, format, listField.message, registry, csvLayout(argv));
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    throw new UsageError(`${problems.length} rows of ${file ?? "stdin"} cannot be read; nothing was sent`);
  }

  const output = method.output;
  const resultsField = output.fields.find((f) => f.fieldKind === "list" && f.listKind === "message");
  const summaryField = output.fields.find((f) => f.fieldKind === "message");
  const dryRunField = output.fields.find((f) => f.name === "dry_run");
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
      const request = reflect(method.input, clone(method.input, options.request));
      const list = request.get(listField);
      for (const row of batch) list.add(reflect(listField.message, row.record));
      if (rowNumberField) request.set(rowNumberField, BigInt(batch[0]?.line ?? 1));
      let response: ReflectMessage;
      try {
        response = reflect(output, (await connection.unary(method, request.message)).message);
      } catch (err) {
        if (done > 0) {
          process.stderr.write(
            `note: the rows before line ${batch[0]?.line} were sent; importing the file again does not change them\n`,
          );
        }
        throw err;
      }
      const lines: string[] = [];
      for (const result of resultsField ? messagesOf(response, resultsField) : []) {
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
      if (summaryField?.fieldKind === "message" && response.isSet(summaryField)) {
        addCounts(totals, response.get(summaryField));
      }
      dryRun ||= dryRunField !== undefined && response.get(dryRunField) === true;
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

function addCounts(totals: Map<string, bigint>, summary: ReflectMessage): void {
  for (const f of summary.fields) {
    const value = summary.get(f);
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
