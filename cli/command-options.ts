import type { Options } from "yargs";
import { layouts } from "./column-mapping.js";
import { flagName } from "./field-flags.js";
import type { MethodShape } from "./method-shape.js";
import { paging } from "./paging.js";
import type { RpcCommandSpec } from "./rpc-spec.js";

/** The formats `records` commands write and `batches` commands read. */
const recordFormats = ["csv", "ndjson", "json"] as const;

/**
 * The options of a command that are not request fields (`--all`,
 * `--force`, `--file`, ...), by name, as its spec and shape call for them.
 */
export function commandOptions(spec: RpcCommandSpec, shape: MethodShape): [string, Options][] {
  const options: [string, Options][] = [];
  const add = (name: string, option: Options) => options.push([name, option]);
  if (shape.readMask && shape.selectType) {
    // A records command asks for every field unless told otherwise: --all would say nothing.
    if (!spec.records) add("all", { type: "boolean", describe: "return every field the caller may read" });
    add("field-mask", {
      type: "string",
      requiresArg: true,
      describe: "field paths to return, separated by commas, besides the field flags",
    });
  }
  if (paging(shape.method.input)) {
    add("all-pages", {
      type: "boolean",
      describe:
        "fetch every page from the one asked for on, printing as they arrive (with a progress bar on stderr when it is a terminal and stdout is redirected)",
    });
  }
  if (shape.updateMask) {
    add("unset", {
      type: "string",
      array: true,
      requiresArg: true,
      describe: "fields to clear (reset to their default); repeat or separate with commas",
    });
  }
  const several = (spec.secrets?.length ?? 0) > 1 ? "; with several -stdin flags, one line each, in this order" : "";
  for (const secret of spec.secrets ?? []) {
    add(secretStdinFlag(secret.field), {
      type: "boolean",
      describe:
        secret.prompt === false
          ? `read the ${secret.label.toLowerCase()} from stdin${several}`
          : `read the ${secret.label.toLowerCase()} from stdin instead of prompting on the terminal${several}`,
    });
  }
  if (spec.confirm) add("force", { type: "boolean", alias: "f", describe: "do not ask for confirmation" });
  if (spec.records) {
    add("format", {
      type: "string",
      requiresArg: true,
      choices: recordFormats,
      describe:
        "csv (one column per field), ndjson (one JSON object per line) or json (one array); default: the extension of --output, else csv",
    });
  }
  if (spec.batches) options.push(...batchOptions());
  return options;
}

/** The flag that reads the secret request field `field` from stdin (`--password-stdin`). */
export function secretStdinFlag(field: string): string {
  return `${flagName(field)}-stdin`;
}

function batchOptions(): [string, Options][] {
  return [
    [
      "file",
      {
        type: "string",
        requiresArg: true,
        describe:
          "the CSV, NDJSON or JSON file to read (as users export writes it; JSON also as ttn-lw-cli users list and Keycloak's users endpoint print users); default: stdin",
      },
    ],
    [
      "format",
      {
        type: "string",
        requiresArg: true,
        choices: recordFormats,
        describe: "csv, ndjson or json (an array); default: the extension of --file, else guessed from the content",
      },
    ],
    [
      "column",
      {
        type: "string",
        array: true,
        requiresArg: true,
        describe:
          "map a CSV column of another system to a field: SOURCE=FIELD (a header, or a 1-based position with --no-header), SOURCE=- leaves it out; common headers (email, username, full_name) are known",
      },
    ],
    [
      "header",
      {
        type: "boolean",
        default: undefined,
        describe: "whether the CSV's first row names its columns (default: yes); --no-header reads it as data",
      },
    ],
    [
      "layout",
      {
        type: "string",
        requiresArg: true,
        choices: Object.keys(layouts),
        describe:
          "read a CSV laid out otherwise than Roster's export: reana (no header; id, email, access token, username, full name)",
      },
    ],
    ["batch-size", { type: "number", requiresArg: true, default: 100, describe: "rows per call (at most 1000)" }],
    [
      "report",
      {
        type: "string",
        requiresArg: true,
        describe: "write the report (one JSON object per row) to this file instead of stdout",
      },
    ],
  ];
}
