import type { DescField, DescMessage, FileRegistry, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import { isReflectMessage, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import type { OutputFormat } from "./settings.js";

/**
 * Which fields to print even when they hold their default value (false,
 * "", 0, an empty map): the ones the command asked for by a flag. With
 * `all`, only fields that carry a value are printed, because proto3 does
 * not tell a default value from a field the server left out.
 */
export type ShownPaths = readonly string[] | "all";

/**
 * The proto3 JSON form of a message with proto field names (`user_id`),
 * as ttn-lw-cli prints it, plus the default values of the shown paths.
 */
export function messageJson(
  desc: DescMessage,
  message: Message,
  registry: FileRegistry,
  shown: ShownPaths,
): JsonObject {
  const options = { useProtoFieldName: true, registry };
  const json = toJson(desc, message, options) as JsonObject;
  if (shown === "all" || shown.length === 0) return json;
  const withDefaults = toJson(desc, message, { ...options, alwaysEmitImplicit: true }) as JsonObject;
  for (const path of shown) copyPath(withDefaults, json, path.split("."));
  return orderLike(withDefaults, json);
}

function copyPath(from: JsonObject, to: JsonObject, parts: string[]): void {
  const [head, ...rest] = parts as [string, ...string[]];
  const value = from[head];
  if (value === undefined) return;
  if (rest.length === 0 || value === null || typeof value !== "object" || Array.isArray(value)) {
    to[head] ??= value;
    return;
  }
  if (to[head] === undefined) to[head] = {};
  copyPath(value, to[head] as JsonObject, rest);
}

/** `json`'s keys in the order of `model` (the field order of the message). */
function orderLike(model: JsonObject, json: JsonObject): JsonObject {
  const ordered: JsonObject = {};
  for (const key of Object.keys(model)) if (key in json) ordered[key] = json[key] as JsonValue;
  for (const key of Object.keys(json)) if (!(key in ordered)) ordered[key] = json[key] as JsonValue;
  return ordered;
}

/** The messages `field` of a response holds: a list's items, or a message field's message when it is set. */
export function messagesOf(response: ReflectMessage, field: DescField): Message[] {
  if (field.fieldKind === "list")
    return [...response.get(field)].filter((m) => isReflectMessage(m)).map((m) => m.message);
  if (field.fieldKind === "message" && response.isSet(field)) return [response.get(field).message];
  return [];
}

/** Prints the items of a list as they arrive, page by page. */
export interface ListWriter {
  add(items: JsonObject[]): void;
  end(): void;
}

/** Writes results to stdout in one output format. */
export interface Printer {
  value(value: JsonObject): void;
  list(): ListWriter;
}

type Write = (text: string) => void;

const stdoutWrite: Write = (text) => {
  process.stdout.write(text);
};

/**
 * The printer of `format`. YAML and tables load their libraries here, only
 * when asked for, to keep the start-up of every other command short.
 */
export async function createPrinter(format: OutputFormat, write: Write = stdoutWrite): Promise<Printer> {
  switch (format) {
    case "json":
      return {
        value: (value) => write(`${JSON.stringify(value, null, 2)}\n`),
        list: () => jsonList(write),
      };
    case "yaml": {
      const { default: YAML } = await import("yaml");
      return {
        value: (value) => write(YAML.stringify(value)),
        list() {
          // One sequence written item by item: each batch is itself a valid
          // sequence, and sequences concatenate.
          let count = 0;
          return {
            add(items) {
              if (items.length === 0) return;
              count += items.length;
              write(YAML.stringify(items));
            },
            end: () => {
              if (count === 0) write("[]\n");
            },
          };
        },
      };
    }
    case "table": {
      const { renderTable } = await import("./table.js");
      return {
        value: (value) =>
          write(
            renderTable(
              ["FIELD", "VALUE"],
              Object.entries(value).map(([field, v]) => ({ FIELD: field, VALUE: cellText(v) })),
            ),
          ),
        list() {
          // Column widths need every row, so a table prints at the end.
          const rows: JsonObject[] = [];
          return {
            add: (items) => void rows.push(...items),
            end() {
              if (rows.length === 0) return;
              const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
              const headers = columns.map((c) => c.toUpperCase());
              const cells = rows.map((r) => Object.fromEntries(columns.map((c) => [c.toUpperCase(), cellText(r[c])])));
              write(renderTable(headers, cells));
            },
          };
        },
      };
    }
  }
}

/** One JSON array, written item by item so that memory stays flat over many pages. */
function jsonList(write: Write): ListWriter {
  let count = 0;
  return {
    add(items) {
      for (const item of items) {
        const text = JSON.stringify(item, null, 2).replaceAll("\n", "\n  ");
        write(`${count++ === 0 ? "[\n  " : ",\n  "}${text}`);
      }
    },
    end: () => write(count === 0 ? "[]\n" : "\n]\n"),
  };
}

/** A JSON value in one table cell: maps as k=v, lists with commas. */
function cellText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map(cellText).join(", ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${cellText(v)}`)
      .join(", ");
  }
  return String(value).replace(/\s+/g, " ");
}
