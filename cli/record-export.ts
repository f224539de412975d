import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import type { DescField, DescMessage, DescMethod, FileRegistry, Message } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { stringify } from "csv-stringify/sync";
import { recordCells, recordColumns, selectedColumns } from "./csv-records.js";
import { CliError, UsageError } from "./errors.js";
import { createPrinter, messageJson, messagesOf } from "./output.js";
import { canShowProgress, startProgress } from "./progress.js";
import { formatOfFile } from "./record-rows.js";
import { outputFormats, type Settings } from "./settings.js";
import { openConnection } from "./transport.js";

export interface ExportOptions {
  settings: Settings;
  registry: FileRegistry;
  method: DescMethod;
  request: Message;
  /** The response's list of records (`users`). */
  result: DescField;
  /** The record's field that the read mask names (`user`). */
  select?: string;
  /** The read mask sent; empty: every field. */
  readPaths: readonly string[];
  /** `--format`; default: the file's extension, else csv. */
  format?: string;
  /** `--output`; default: stdout. */
  file?: string;
}

/** Write `text`, waiting when the stream's buffer is full, so that memory stays flat however many records come. */
async function put(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}

/**
 * Stream the records of a server-streaming method into a CSV, NDJSON or
 * JSON file (or stdout), with a progress bar from the response's
 * `total_size` when stderr is a terminal.
 */
export async function exportRecords(options: ExportOptions): Promise<void> {
  const { settings, registry, method, result, file } = options;
  if (file && ([...outputFormats, "csv", "ndjson"] as string[]).includes(file)) {
    throw new UsageError(`--output names the file to write here; for the format, use --format ${file}`);
  }
  const format = options.format ?? formatOfFile(file) ?? "csv";
  const recordType = result.message as DescMessage;
  const totalField = method.output.fields.find((f) => f.name === "total_size");
  const noun = result.name.replaceAll("_", " ");

  const stream: Writable = file ? createWriteStream(file) : process.stdout;
  const opened = file
    ? Promise.race([once(stream, "open"), once(stream, "error").then(([err]) => Promise.reject(err))])
    : undefined;
  try {
    await opened;
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
  }
  const columns = format === "csv" ? selectedColumns(recordColumns(recordType), options.select, options.readPaths) : [];
  let pending = "";
  const collect = (text: string) => {
    pending += text;
  };
  const json = format === "json" ? (await createPrinter("json", collect)).list() : undefined;
  if (format === "csv") await put(stream, stringify([columns.map((c) => c.name)]));

  const connection = await openConnection(settings, registry);
  const visible = canShowProgress(!file);
  let progress: Awaited<ReturnType<typeof startProgress>> | undefined;
  let count = 0;
  try {
    for await (const message of connection.serverStream(method, options.request)) {
      const fields = reflect(method.output, message);
      if (!progress && totalField) {
        progress = await startProgress({ total: Number(fields.get(totalField)), noun, visible });
      }
      const items = messagesOf(fields, result).map((m) => messageJson(recordType, m, registry, "all"));
      if (items.length === 0) continue;
      if (format === "csv") {
        await put(stream, stringify(items.map((item) => recordCells(item, columns))));
      } else if (json) {
        json.add(items);
        await put(stream, pending);
        pending = "";
      } else {
        await put(stream, items.map((item) => `${JSON.stringify(item)}\n`).join(""));
      }
      count += items.length;
      progress?.update(count);
    }
    if (json) {
      json.end();
      await put(stream, pending);
    }
  } finally {
    progress?.stop();
    connection.close();
    if (file) {
      stream.end();
      await once(stream, "close");
    }
  }
  if (file) process.stderr.write(`exported ${count} ${noun} to ${file}\n`);
}
