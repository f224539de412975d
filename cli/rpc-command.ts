import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
  fromJson,
  isFieldSet,
  type JsonObject,
  type JsonValue,
  type Message,
} from "@bufbuild/protobuf";
import type { Argv, CommandModule, Options } from "yargs";
import { findField, findMethod, isFieldMask, isScalarLike, shortEnumName } from "./descriptors.js";
import { CliError, codeName, exitCodes, isConnectError, UsageError } from "./errors.js";
import {
  claimName,
  enumValueName,
  type FieldFlag,
  flagName,
  isEtag,
  requestFlags,
  selectFlags,
  setFlags,
  setJsonPath,
  valueOption,
} from "./field-flags.js";
import { createPrinter, messageJson, type Printer, type ShownPaths } from "./output.js";
import { pageThrough, paging } from "./paging.js";
import { ask, askNewSecret, canPrompt, confirm, readStdin } from "./prompt.js";
import { descriptionOf, summaryOf } from "./proto-comments.js";
import { type CredentialChoice, resolveSettings, type Settings } from "./settings.js";
import { type Connection, openConnection } from "./transport.js";

/**
 * A command that calls one RPC, declared rather than written: everything
 * else (flags, help, request, output) follows from the method's
 * descriptors by the conventions of Google's AIPs:
 *
 * - a request field of message type is the resource: its fields become set
 *   flags of their types, and an `update_mask` next to it lists
 *   exactly the flags given;
 * - any other FieldMask (`field_mask`, `read_mask`) selects what a read
 *   returns: one boolean flag per field of the resource in the response,
 *   `--all`, `--field-mask`;
 * - `limit`/`page`/`page_token` in the request make the command paginated
 *   (hint on stderr, `--all-pages`);
 * - every other request field becomes a flag of its type;
 * - the response's resource (its only message field) is what is printed.
 */
export interface RpcCommandSpec {
  /** The command and its aliases: `"get"`, `["update", "set"]`. */
  command: string | readonly string[];
  /** The method, as `package.Service.Method`. */
  rpc: string;
  /**
   * Request field paths taken from positional arguments, in order
   * (`user.user_id`). A trailing `?` makes one optional (`user_id?`: the
   * field stays empty when it is not given). An argument takes its field's
   * type, as a flag would (a google.protobuf.Value is JSON, or plain text
   * for a string).
   */
  args?: readonly string[];
  /**
   * Optional arguments asked for on a terminal when they are not given,
   * with their prompt (`{ user_id_or_email: "User id or email" }`);
   * without a terminal they must be given.
   */
  ask?: Readonly<Record<string, string>>;
  /** When the optional arguments are all left out, call this method instead (`settings get <user-id>` lists). */
  without?: { rpc: string };
  /**
   * When the last argument is given more than once, call this method
   * instead, with the values in its repeated field `field` (Get → BatchGet).
   */
  many?: { rpc: string; field: string };
  /** Request fields that hold secrets: prompted without echo on a terminal, or read with `--<field>-stdin`. */
  secrets?: readonly SecretSpec[];
  /** Ask before calling, unless `--force`; the question, given the request (proto field names). */
  confirm?: (request: JsonObject) => string;
  /**
   * Repeated response fields that list what was asked for but not found:
   * reported on stderr with exit code 4, after the rest is printed.
   */
  missing?: readonly string[];
  /**
   * Response fields beside the resource that only requests asking for them
   * fill (Create's `api_key`): the resource is printed alone unless one is
   * set, then the whole response.
   */
  extras?: readonly string[];
  /** Help text instead of the method's comment. */
  describe?: string;
  /** A paragraph added to the method's comment in --help: what the command does besides the call. */
  extraHelp?: string;
  /**
   * Boolean flags that set a request field to one value, named after what
   * they mean (Conch's `--login-only` for `kind` LOGIN); the help of an
   * enum value's flag is the value's comment.
   */
  presets?: Readonly<Record<string, { field: string; value: string }>>;
  /**
   * Request fields this command always sends with these values (proto
   * JSON, by path: `{ send_email: true }`); they get no flags. A command
   * that is another's call with some choices made (`users invite` is a
   * Create that mails the user).
   */
  fixed?: Readonly<Record<string, JsonValue>>;
  /** More names for derived flags: `{ before: "issued-before" }`. */
  flagAliases?: Readonly<Record<string, string>>;
  /** Which credential the call carries: the usual one, none (logging in), or the stored login token (logging out). */
  credential?: CredentialChoice;
  /** Error codes (`UNAUTHENTICATED`) that end the command as a success: `after` runs without a response. */
  tolerate?: readonly string[];
  /** Runs after the call: may print something else than the response, and add notes for stderr. */
  after?: (outcome: CallOutcome) => AfterResult | Promise<AfterResult>;
  /**
   * The results are data to keep rather than to read (users export): they
   * are written as CSV, NDJSON or JSON (`--format`) to stdout or a file
   * (`--output`), with a progress bar on stderr. Without select flags
   * every field is asked for. `select` is the field of a result whose
   * fields the select flags and the read mask name (`user` of a UserRecord).
   */
  records?: { select?: string };
  /**
   * The request's repeated message field `field` is filled from a file of
   * records (`--file`, CSV or NDJSON, as `records` writes them) and sent in
   * batches (users import); each response's list is written as NDJSON
   * lines and its counts are summed on stderr. `rowNumber`: the request
   * field that numbers the batch's first row. `failures`: counts of the
   * summary that make the exit code (`{ invalid: 3 }`).
   */
  batches?: { field: string; rowNumber?: string; failures?: Readonly<Record<string, number>> };
  /**
   * A server stream that may never end (events stream): each message's
   * result is printed as one compact JSON object a line as it arrives,
   * whatever --output says, until the stream ends or the command is
   * interrupted.
   */
  lines?: boolean;
}

/** What `after` is told: the request and response as proto JSON, or the tolerated error. */
export interface CallOutcome {
  request: JsonObject;
  response?: JsonObject;
  error?: unknown;
  settings: Settings;
}

export interface AfterResult {
  /** Print this instead of the response (a list prints as one, a table with a column per key); null: print nothing. */
  show?: JsonObject | JsonObject[] | null;
  /** Lines for stderr. */
  notes?: string[];
}

export interface SecretSpec {
  field: string;
  /** What to call it in the prompt: "Password". */
  label: string;
  /** Ask twice (a new secret). */
  confirm?: boolean;
  /** The request is valid without it; an empty answer leaves it unset. */
  optional?: boolean;
  /** Ask for it on a terminal (default); false: only `--<field>-stdin` gives it. */
  prompt?: boolean;
}

/** Flags of every command (see settings.ts); derived flags must not take their names. */
export const reservedFlags = [
  "help",
  "version",
  "server",
  "api-key",
  "protocol",
  "ca-file",
  "insecure",
  "timeout",
  "output",
  "o",
] as const;

const groups = {
  select: "Fields to return:",
  set: "Fields to set:",
  request: "Request options:",
  command: "Options:",
};

/** What a method's descriptors say about how to drive it from the command line. */
interface MethodShape {
  method: DescMethod;
  /** The request field holding the resource to create or update (`user`). */
  resource?: DescField & { fieldKind: "message" };
  updateMask?: DescField;
  readMask?: DescField;
  /** The response field that holds the result (`user`, `users`). */
  result?: DescField;
  /** The message type of the result. */
  resultType?: DescMessage;
  /**
   * Whether printing the result alone shows everything: the response's
   * other fields are paging fields or reported otherwise (`missing`). A
   * response with more (a new secret next to its record) prints whole.
   */
  resultSaysAll: boolean;
  /** Response fields of `extras`: the whole response is printed when one is set. */
  resultExtras?: DescField[];
  /** The message whose fields the select flags and the read mask name: the result's type, or a field of it (`records.select`). */
  selectType?: DescMessage;
}

/** Response fields the paging code reports on stderr. */
const pagingResponseFields = ["next_page_token", "total_size"];

function shapeOf(method: DescMethod, spec: RpcCommandSpec): MethodShape {
  const reported = spec.missing ?? [];
  const shape: MethodShape = { method, resultSaysAll: false };
  for (const field of method.input.fields) {
    if (isFieldMask(field)) {
      if (field.name === "update_mask") shape.updateMask = field;
      else shape.readMask = field;
    } else if (field.fieldKind === "message" && !isScalarLike(field.message)) {
      shape.resource = field;
    }
  }
  const results = method.output.fields.filter(
    (f) =>
      (f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message")) && !isScalarLike(f.message),
  );
  if (results.length === 1) {
    const result = results[0] as DescField;
    shape.result = result;
    shape.resultType = result.message;
    const extras = spec.extras ?? [];
    shape.resultExtras = method.output.fields.filter((f) => extras.includes(f.name));
    shape.resultSaysAll = method.output.fields.every(
      (f) =>
        f === result || pagingResponseFields.includes(f.name) || reported.includes(f.name) || extras.includes(f.name),
    );
    const select = spec.records?.select;
    const selected = select ? fieldAt(result.message as DescMessage, select) : undefined;
    shape.selectType = !selected ? result.message : selected.fieldKind === "message" ? selected.message : undefined;
  }
  return shape;
}

/** The request field path of a positional argument (`user_id?` → `user_id`). */
function argPath(arg: string): string {
  return arg.replace(/\?$/, "");
}

function isOptional(arg: string): boolean {
  return arg.endsWith("?");
}

/** The name of a positional argument: the last part of its path, with dashes (`a.b_c` → `b-c`). */
function argName(arg: string): string {
  return flagName(argPath(arg).split(".").at(-1) as string);
}

/** Paths from flags and `--field-mask`/`--unset` values: dashes are never part of a proto name. */
function pathList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => String(v).split(","))
    .map((p) => p.trim().replaceAll("-", "_"))
    .filter(Boolean);
}

/** A boolean flag that sets a request field to one value. */
interface PresetFlag {
  name: string;
  field: DescField;
  /** The value as proto3 JSON. */
  value: string;
}

/** The flags of one command, by role, as derived from the descriptors. */
interface CommandFlags {
  args: string[];
  request: FieldFlag[];
  set: FieldFlag[];
  etag?: FieldFlag;
  select: FieldFlag[];
  /** Select flags renamed because a request flag holds the field's name. */
  renamedSelect: FieldFlag[];
  presets: PresetFlag[];
  /** Extra names, by the flag they stand for. */
  aliases: Map<string, string[]>;
  fixed: Record<string, Options>;
  secretFlags: Map<string, string>;
}

/** The formats `records` commands write and `batches` commands read. */
export const recordFormats = ["csv", "ndjson", "json"] as const;

function deriveFlags(spec: RpcCommandSpec, shape: MethodShape): CommandFlags {
  const input = shape.method.input;
  const args = (spec.args ?? []).map(argName);
  const taken = new Set<string>([...reservedFlags, ...args]);
  const fixed: Record<string, Options> = {};
  const secretFlags = new Map<string, string>();
  const fix = (name: string, option: Options) => {
    fixed[claimName(name, "cli", taken)] = option;
  };

  if (shape.readMask && shape.selectType) {
    // A records command asks for every field unless told otherwise: --all would say nothing.
    if (!spec.records) fix("all", { type: "boolean", describe: "return every field the caller may read" });
    fix("field-mask", {
      type: "string",
      requiresArg: true,
      describe: "field paths to return, separated by commas, besides the field flags",
    });
  }
  if (paging(input)) {
    fix("all-pages", {
      type: "boolean",
      describe:
        "fetch every page from the one asked for on, printing as they arrive (with a progress bar on stderr when it is a terminal and stdout is redirected)",
    });
  }
  if (shape.updateMask) {
    fix("unset", {
      type: "string",
      array: true,
      requiresArg: true,
      describe: "fields to clear (reset to their default); repeat or separate with commas",
    });
  }
  for (const secret of spec.secrets ?? []) {
    const name = `${flagName(secret.field)}-stdin`;
    const several = (spec.secrets?.length ?? 0) > 1 ? "; with several -stdin flags, one line each, in this order" : "";
    fix(name, {
      type: "boolean",
      describe:
        secret.prompt === false
          ? `read the ${secret.label.toLowerCase()} from stdin${several}`
          : `read the ${secret.label.toLowerCase()} from stdin instead of prompting on the terminal${several}`,
    });
    secretFlags.set(secret.field, name);
  }
  if (spec.confirm) fix("force", { type: "boolean", alias: "f", describe: "do not ask for confirmation" });
  if (spec.records) {
    fix("format", {
      type: "string",
      requiresArg: true,
      choices: recordFormats,
      describe:
        "csv (one column per field), ndjson (one JSON object per line) or json (one array); default: the extension of --output, else csv",
    });
  }
  if (spec.batches) {
    fix("file", {
      type: "string",
      requiresArg: true,
      describe:
        "the CSV, NDJSON or JSON file to read (as users export writes it; JSON also as ttn-lw-cli users list and Keycloak's users endpoint print users); default: stdin",
    });
    fix("format", {
      type: "string",
      requiresArg: true,
      choices: recordFormats,
      describe: "csv, ndjson or json (an array); default: the extension of --file, else guessed from the content",
    });
    fix("column", {
      type: "string",
      array: true,
      requiresArg: true,
      describe:
        "map a CSV column of another system to a field: SOURCE=FIELD (a header, or a 1-based position with --no-header), SOURCE=- leaves it out; common headers (email, username, full_name) are known",
    });
    fix("header", {
      type: "boolean",
      default: undefined,
      describe: "whether the CSV's first row names its columns (default: yes); --no-header reads it as data",
    });
    fix("layout", {
      type: "string",
      requiresArg: true,
      choices: ["reana"],
      describe: "read another system's export: reana (flask reana-admin user-export)",
    });
    fix("batch-size", { type: "number", requiresArg: true, default: 100, describe: "rows per call (at most 1000)" });
    fix("report", {
      type: "string",
      requiresArg: true,
      describe: "write the report (one JSON object per row) to this file instead of stdout",
    });
  }

  // Request fields keep their names; the resource's fields, then the
  // selected ones, give way to them.
  const consumed = [
    ...(spec.args ?? []).map(argPath).filter((a) => !a.includes(".")),
    ...(spec.secrets ?? []).map((s) => s.field),
    ...[shape.resource, shape.updateMask, shape.readMask].filter((f) => f !== undefined).map((f) => f.name),
    ...(spec.batches ? [spec.batches.field, spec.batches.rowNumber ?? ""] : []),
    ...Object.keys(spec.fixed ?? {}).filter((p) => !p.includes(".")),
  ];
  const request = requestFlags(input, taken, consumed);

  let set: FieldFlag[] = [];
  let etag: FieldFlag | undefined;
  if (shape.resource) {
    const prefix = `${shape.resource.name}.`;
    const exclude = [...(spec.args ?? []).map(argPath), ...Object.keys(spec.fixed ?? {})]
      .filter((a) => a.startsWith(prefix))
      .map((a) => a.slice(prefix.length));
    const etagFields = shape.resource.message.fields.filter(isEtag).map((f) => f.name);
    set = setFlags(shape.resource.message, taken, {
      exclude: [...exclude, ...etagFields],
      skipImmutable: shape.updateMask !== undefined,
    });
    const etagField = shape.resource.message.fields.find(isEtag);
    if (shape.updateMask && etagField) {
      const name = claimName(flagName(etagField.name), "set", taken);
      etag = {
        name,
        path: etagField.name,
        field: etagField,
        option: {
          type: "string",
          requiresArg: true,
          describe: descriptionOf(etagField).replace(/\s+/g, " "),
        },
      };
    }
  }

  let select: FieldFlag[] = [];
  const renamedSelect: FieldFlag[] = [];
  if (shape.readMask && shape.selectType) {
    const requestNames = new Set(request.map((f) => f.name));
    select = selectFlags(shape.selectType, taken);
    for (const flag of select)
      if (flag.name !== flagName(flag.path) && requestNames.has(flagName(flag.path))) renamedSelect.push(flag);
  }

  const presets: PresetFlag[] = [];
  for (const [name, preset] of Object.entries(spec.presets ?? {})) {
    const field = fieldAt(input, preset.field);
    const target = request.find((f) => f.path === preset.field);
    let value = preset.value;
    let describe = `sets ${target ? `--${target.name}` : preset.field} to ${preset.value}`;
    if (field.fieldKind === "enum") {
      value = enumValueName(field.enum, preset.value, `--${name}`);
      const enumValue = field.enum.values.find((v) => v.name === value);
      describe =
        `${enumValue ? summaryOf(enumValue) : ""} Same as --${target?.name ?? flagName(preset.field)} ${shortEnumName(field.enum, value)}.`.trim();
    }
    fix(name, { type: "boolean", describe });
    presets.push({ name, field, value });
  }

  const aliases = new Map<string, string[]>();
  const named = [...request, ...set, ...select, ...(etag ? [etag] : [])].map((f) => f.name);
  for (const [alias, target] of Object.entries(spec.flagAliases ?? {})) {
    if (!named.includes(target) && !(target in fixed)) throw new Error(`flag alias ${alias}: no flag --${target}`);
    if (taken.has(alias)) throw new Error(`flag alias ${alias}: the name is taken`);
    taken.add(alias);
    aliases.set(target, [...(aliases.get(target) ?? []), alias]);
  }
  return { args, request, set, etag, select, renamedSelect, presets, aliases, fixed, secretFlags };
}

/** Turn a declared command into a yargs command module; `parents` prefix its usage line (`users `). */
export function rpcCommand(registry: FileRegistry, spec: RpcCommandSpec, parents = ""): CommandModule {
  const method = findMethod(registry, spec.rpc);
  const shape = shapeOf(method, spec);
  // Derived when the command runs or shows its help, not for every command at start-up.
  let derived: CommandFlags | undefined;
  const flagsOf = () => {
    derived ??= deriveFlags(spec, shape);
    return derived;
  };
  const [name, ...aliases] = typeof spec.command === "string" ? [spec.command] : spec.command;
  const args = (spec.args ?? []).map(argName);
  const positionals = args.map((a, i) => {
    if (spec.many && i === args.length - 1) return `<${a}..>`;
    return isOptional((spec.args ?? [])[i] as string) ? `[${a}]` : `<${a}>`;
  });
  const describe = [spec.describe ?? descriptionOf(method), spec.extraHelp].filter(Boolean).join("\n\n");

  return {
    command: [name, ...positionals].join(" "),
    aliases,
    describe: spec.describe ?? summaryOf(method),
    builder: (yargs: Argv) => {
      const flags = flagsOf();
      let y = yargs.usage(`$0 ${parents}${[name, ...positionals].join(" ")}\n\n${describe}`);
      (spec.args ?? []).forEach((arg, i) => {
        const field = fieldAt(method.input, argPath(arg));
        y = y.positional(flags.args[i] as string, {
          type: "string",
          describe: descriptionOf(field).replace(/\s+/g, " "),
        });
      });
      const add = (list: FieldFlag[], group: string) => {
        for (const flag of list)
          y = y.option(flag.name, { ...flag.option, group, ...aliasOption(flags.aliases.get(flag.name)) });
      };
      // A filter flag that holds a field's name also selects that field when
      // given without a value, as The Things Stack's field flags do.
      const bareSelects = new Set(flags.renamedSelect.map((f) => flagName(f.path)));
      add(
        flags.request.map((f) => (bareSelects.has(f.name) ? { ...f, option: bareAllowed(f.option) } : f)),
        groups.request,
      );
      add(flags.set, groups.set);
      if (flags.etag) add([flags.etag], groups.request);
      add(flags.select, groups.select);
      for (const [flag, option] of Object.entries(flags.fixed))
        y = y.option(flag, { ...option, group: groups.command, ...aliasOption(flags.aliases.get(flag)) });
      if (spec.records) {
        // Here --output names the file; the format is --format (see settings.ts).
        y = y.option("output", { type: "string", requiresArg: true, describe: "file to write; default: stdout" });
      }
      return y.epilogue(epilogue(spec, shape, flags));
    },
    handler: async (argv) => run(registry, spec, shape, flagsOf(), bareFiltersSelect(flagsOf(), argv)),
  };
}

/** Whether a flag's parsed value says it was given without one. */
function isBare(value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.every((v) => v === "" || v === true);
}

/** The option of a filter flag that may also be given bare (see bareFiltersSelect). */
function bareAllowed(option: Options): Options {
  const coerce = option.coerce;
  return { ...option, requiresArg: false, coerce: coerce && ((v: unknown) => (isBare(v) ? v : coerce(v))) };
}

/**
 * Filter flags given without a value (followed by another flag) that
 * share their name with a field: they select the field instead.
 */
function bareFiltersSelect(flags: CommandFlags, argv: Record<string, unknown>): Record<string, unknown> {
  const out = { ...argv };
  for (const select of flags.renamedSelect) {
    const filter = flagName(select.path);
    if (filter in out && out[filter] !== undefined && isBare(out[filter])) {
      delete out[filter];
      out[select.name] = true;
    }
  }
  return out;
}

function fieldAt(message: DescMessage, path: string): DescField {
  const [head, ...rest] = path.split(".") as [string, ...string[]];
  const field = findField(message, head);
  if (rest.length === 0) return field;
  if (field.fieldKind !== "message") throw new Error(`${path}: ${head} is not a message`);
  return fieldAt(field.message, rest.join("."));
}

function aliasOption(aliases: string[] | undefined): Options {
  return aliases ? { alias: aliases } : {};
}

function epilogue(spec: RpcCommandSpec, shape: MethodShape, flags: CommandFlags): string {
  const notes: string[] = [];
  if (shape.readMask && shape.selectType && spec.records) {
    notes.push(
      "Without field flags or --field-mask, every field is asked for; with them, a CSV has a column for each field asked for.",
    );
  } else if (shape.readMask && shape.selectType) {
    const first = shape.selectType.fields[0]?.name;
    notes.push(
      `Without field flags, --all or --field-mask, only ${first} is asked for (the server adds the fields it always returns).`,
    );
  }
  if (flags.renamedSelect.length > 0) {
    const filters = flags.renamedSelect.map((f) => `--${flagName(f.path)}`).join(", ");
    const renamed = flags.renamedSelect.map((f) => `--${f.name}`).join(", ");
    const others = spec.records ? "--field-mask" : "--all, --field-mask";
    notes.push(
      `Here ${filters} with a value filter the request; without a value, or with ${renamed} (or ${others}), they return those fields.`,
    );
  }
  if (shape.updateMask)
    notes.push("Only the fields given by flags (and --unset) are changed: they form the update mask.");
  return notes.join("\n");
}

/** A request as proto3 JSON, and what its masks hold, before secrets and confirmation. */
interface DraftRequest {
  method: DescMethod;
  json: JsonObject;
  /** Paths of the set flags given. */
  setPaths: string[];
  readPaths?: string[];
  updatePaths?: string[];
  shown: ShownPaths;
  /** Paths of arguments left out that are to be asked for on the terminal. */
  toAsk: string[];
}

/** Turn the command line into a request; every usage error is found here, before anything is sent. */
function draftRequest(
  registry: FileRegistry,
  spec: RpcCommandSpec,
  shape: MethodShape,
  flags: CommandFlags,
  argv: Record<string, unknown>,
): DraftRequest {
  let method = shape.method;
  const json: JsonObject = {};
  for (const [path, value] of Object.entries(spec.fixed ?? {})) setJsonPath(json, path, value as never);
  const toAsk: string[] = [];
  let omitted = 0;
  (spec.args ?? []).forEach((arg, i) => {
    const path = argPath(arg);
    const name = flags.args[i] as string;
    const value = argv[name];
    if (value === undefined) {
      omitted++;
      if (spec.ask?.[path]) toAsk.push(path);
      return;
    }
    const values = (Array.isArray(value) ? value : [value]).map(String);
    if (spec.many && i === flags.args.length - 1 && values.length > 1) {
      method = findMethod(registry, spec.many.rpc);
      json[spec.many.field] = values;
    } else {
      setJsonPath(json, path, argValue(fieldAt(shape.method.input, path), values[0] as string, name));
    }
  });
  if (spec.without && omitted > 0 && omitted === (spec.args ?? []).filter(isOptional).length) {
    method = findMethod(registry, spec.without.rpc);
  }
  for (const flag of flags.request) {
    if (argv[flag.name] !== undefined) setJsonPath(json, flag.path, argv[flag.name] as never);
  }
  for (const preset of flags.presets) {
    if (argv[preset.name] !== true) continue;
    const path = preset.field.name;
    if (json[path] !== undefined) {
      const others = [
        ...flags.presets.filter((p) => p.field === preset.field && argv[p.name] === true).map((p) => p.name),
      ];
      const flag = flags.request.find((f) => f.field === preset.field);
      if (flag && argv[flag.name] !== undefined) others.push(flag.name);
      throw new UsageError(`${others.map((o) => `--${o}`).join(", ")}: give only one of them`);
    }
    json[path] = preset.value;
  }

  const setPaths: string[] = [];
  if (shape.resource) {
    // Positional arguments may have put the resource's id there already.
    const resource = (json[shape.resource.name] as JsonObject | undefined) ?? {};
    json[shape.resource.name] = resource;
    for (const flag of flags.set) {
      if (argv[flag.name] === undefined) continue;
      setJsonPath(resource, flag.path, argv[flag.name] as never);
      setPaths.push(flag.path);
    }
    if (flags.etag && argv[flags.etag.name] !== undefined) resource[flags.etag.path] = String(argv[flags.etag.name]);
  }
  const draft: DraftRequest = { method, json, setPaths, shown: setPaths, toAsk };
  if (shape.updateMask) draft.updatePaths = updatePaths(flags, setPaths, pathList(argv.unset));
  if (shape.readMask && shape.selectType) {
    const selected = [
      ...flags.select.filter((f) => argv[f.name] === true).map((f) => f.path),
      ...pathList(argv["field-mask"]),
    ];
    if (spec.records && selected.length === 0) {
      // An export without field flags exports every field: an empty mask.
      draft.readPaths = [];
      draft.shown = "all";
    } else if (spec.records) {
      draft.readPaths = [...new Set(selected)];
      draft.shown = "all";
    } else if (argv.all === true) {
      if (selected.length > 0) {
        throw new UsageError("--all selects every field; leave out the field flags and --field-mask");
      }
      draft.readPaths = [];
      draft.shown = "all";
    } else {
      // Like ttn-lw-cli: a read without field flags asks for the id only.
      draft.readPaths = selected.length > 0 ? [...new Set(selected)] : [shape.selectType.fields[0]?.name as string];
      draft.shown = draft.readPaths;
    }
  }
  return draft;
}

/** A positional argument as the proto3 JSON value of its field, typed as a flag would be. */
function argValue(field: DescField, text: string, name: string): JsonValue {
  const coerce = valueOption(field, `<${name}>`).coerce;
  if (!coerce) return text;
  try {
    return coerce(text) as JsonValue;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The update mask: the set flags given and the fields to clear; never empty. */
function updatePaths(flags: CommandFlags, setPaths: string[], unset: string[]): string[] {
  const settable = flags.set.map((f) => f.path);
  for (const path of unset) {
    if (!settable.some((s) => s === path || s.startsWith(`${path}.`))) {
      throw new UsageError(`--unset ${path}: not a field that can be set (${settable.join(", ")})`);
    }
    if (setPaths.includes(path)) throw new UsageError(`--unset ${path}: the field is also set by --${flagName(path)}`);
  }
  const paths = [...setPaths, ...unset];
  if (paths.length === 0) throw new UsageError("no fields to update: give at least one field flag or --unset");
  return paths;
}

async function run(
  registry: FileRegistry,
  spec: RpcCommandSpec,
  shape: MethodShape,
  flags: CommandFlags,
  argv: Record<string, unknown>,
): Promise<void> {
  const settings = await resolveSettings(argv, process.env, {
    credential: spec.credential,
    outputIsFile: spec.records !== undefined,
  });
  const draft = draftRequest(registry, spec, shape, flags, argv);
  if (settings.expiredLogin && !settings.apiKey && spec.credential === undefined) {
    const { user_id: user, expires_at: expiry } = settings.expiredLogin;
    process.stderr.write(`note: the login as ${user} expired at ${expiry}; roster login logs in again\n`);
  }

  for (const path of draft.toAsk) {
    const label = spec.ask?.[path] as string;
    if (!canPrompt()) {
      throw new UsageError(`${argName(path)} needed: stdin is not a terminal, so give it as an argument`);
    }
    const [answer] = await ask([{ text: `${label}: ` }]);
    if (!answer?.trim()) throw new UsageError(`no ${label.toLowerCase()} given`);
    setJsonPath(draft.json, path, argValue(fieldAt(shape.method.input, path), answer.trim(), argName(path)));
  }

  // Notes for stderr, written once the call succeeded (a failure says enough).
  const notes: string[] = [];
  const secrets = spec.secrets ?? [];
  const stdinFlag = (secret: SecretSpec) => flags.secretFlags.get(secret.field) as string;
  const fromStdin = secrets.filter((secret) => argv[stdinFlag(secret)] === true);
  // Several secrets from stdin (old and new password) come one per line.
  const lines = fromStdin.length > 1 ? (await readStdin()).split(/\r?\n/) : undefined;
  for (const secret of secrets) {
    const line = lines ? (lines[fromStdin.indexOf(secret)] ?? "") : undefined;
    const { value, note } = await readSecret(secret, stdinFlag(secret), argv[stdinFlag(secret)] === true, line);
    if (value !== "") setJsonPath(draft.json, secret.field, value);
    if (note) notes.push(note);
  }

  if (spec.confirm && argv.force !== true) {
    const question = spec.confirm(draft.json);
    if (!canPrompt()) {
      throw new UsageError(
        `${question.replace(/\?.*$/, "")}: needs confirmation on a terminal; pass --force to skip it`,
      );
    }
    if (!(await confirm(question))) throw new CliError("cancelled", exitCodes.failure);
  }

  const { method } = draft;
  const actual = method === shape.method ? shape : shapeOf(method, spec);
  const request = buildRequest(actual, draft, registry);
  if (spec.batches) {
    const { importBatches } = await import("./record-import.js");
    await importBatches({ settings, registry, method, request, argv, ...spec.batches });
    return;
  }
  if (spec.records && actual.result) {
    const { exportRecords } = await import("./record-export.js");
    await exportRecords({
      settings,
      registry,
      method,
      request,
      result: actual.result,
      select: spec.records.select,
      readPaths: draft.readPaths ?? [],
      format: argv.format as string | undefined,
      file: argv.output as string | undefined,
    });
    return;
  }
  const printer = await createPrinter(settings.output);
  const connection = await openConnection(settings, registry);
  try {
    if (method.methodKind === "server_streaming") {
      if (spec.lines) await printLines(connection, method, request, registry, actual.result);
      else await printStream(connection, method, request, registry, printer);
    } else if (paging(method.input) && actual.result && actual.resultSaysAll) {
      await pageThrough({
        connection,
        method,
        request,
        allPages: argv["all-pages"] === true,
        registry,
        printer,
        result: actual.result,
        shown: draft.shown,
      });
    } else {
      let message: Message | undefined;
      let error: unknown;
      try {
        ({ message } = await connection.unary(method, request));
      } catch (err) {
        if (!isConnectError(err) || !spec.tolerate?.includes(codeName(err.code))) throw err;
        error = err;
      }
      const after = spec.after
        ? await spec.after({
            request: withoutSecrets(draft.json, secrets),
            response: message ? messageJson(method.output, message, registry, "all") : undefined,
            error,
            settings,
          })
        : {};
      if (Array.isArray(after.show)) {
        const writer = printer.list();
        writer.add(after.show);
        writer.end();
      } else if (after.show !== undefined) {
        if (after.show !== null) printer.value(after.show);
      } else if (message) {
        printResponse(actual, message, registry, printer, draft.shown);
      }
      notes.push(...(after.notes ?? []));
      if (message) reportMissing(spec, method, message);
    }
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
  } finally {
    connection.close();
  }
}

function withoutSecrets(json: JsonObject, secrets: readonly SecretSpec[]): JsonObject {
  const copy = { ...json };
  for (const secret of secrets) delete copy[secret.field];
  return copy;
}

/** A secret from stdin or typed on the terminal; empty, with a note, when there is none to read. */
async function readSecret(
  secret: SecretSpec,
  stdinFlag: string,
  fromStdin: boolean,
  /** Its line of stdin, when several secrets are read from there. */
  line?: string,
): Promise<{ value: string; note?: string }> {
  const label = secret.label.toLowerCase();
  if (fromStdin) {
    const value = line ?? (await readStdin());
    if (value === "" && !secret.optional) throw new UsageError(`no ${label} on stdin`);
    return { value };
  }
  if (secret.prompt === false) {
    if (!secret.optional) throw new UsageError(`${label} needed: pass it with --${stdinFlag}`);
    return { value: "" };
  }
  if (canPrompt()) {
    if (secret.confirm) return { value: await askNewSecret(secret.label, secret.optional === true) };
    const [value] = await ask([{ text: `${secret.label}: `, hidden: true }]);
    return { value: value ?? "" };
  }
  if (!secret.optional) {
    throw new UsageError(`${label} needed: stdin is not a terminal, so pass it with --${stdinFlag}`);
  }
  return { value: "", note: `no ${label} given (stdin is not a terminal; --${stdinFlag} reads one)` };
}

function buildRequest(shape: MethodShape, draft: DraftRequest, registry: FileRegistry): Message {
  let request: Message;
  try {
    request = fromJson(shape.method.input, draft.json, { registry });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const fields = request as unknown as Record<string, unknown>;
  if (shape.readMask?.fieldKind === "message" && draft.readPaths) {
    fields[shape.readMask.localName] = create(shape.readMask.message, { paths: draft.readPaths } as never);
  }
  if (shape.updateMask?.fieldKind === "message" && draft.updatePaths) {
    fields[shape.updateMask.localName] = create(shape.updateMask.message, { paths: draft.updatePaths } as never);
  }
  return request;
}

/** Print a response: its resource when it has one, the whole response otherwise, nothing when it is empty. */
function printResponse(
  shape: MethodShape,
  message: Message,
  registry: FileRegistry,
  printer: Printer,
  shown: ShownPaths,
) {
  const fields = message as unknown as Record<string, unknown>;
  const { result, resultType } = shape;
  const extrasUnset = (shape.resultExtras ?? []).every((f) => !isFieldSet(message, f));
  if (result && resultType && shape.resultSaysAll && extrasUnset && fields[result.localName] !== undefined) {
    const value = fields[result.localName];
    if (Array.isArray(value)) {
      const writer = printer.list();
      writer.add(value.map((m) => messageJson(resultType, m as Message, registry, shown)));
      writer.end();
    } else {
      printer.value(messageJson(resultType, value as Message, registry, shown));
    }
    return;
  }
  const json = messageJson(shape.method.output, message, registry, "all");
  if (Object.keys(json).length > 0) printer.value(json);
}

function reportMissing(spec: RpcCommandSpec, method: DescMethod, message: Message) {
  const missing: string[] = [];
  for (const name of spec.missing ?? []) {
    const field = method.output.fields.find((f) => f.name === name);
    const values = field
      ? ((message as unknown as Record<string, unknown>)[field.localName] as unknown[] | undefined)
      : undefined;
    if (values && values.length > 0) missing.push(values.join(", "));
  }
  if (missing.length > 0) throw new CliError(`not found: ${missing.join("; ")}`, exitCodes.notFound);
}

async function printLines(
  connection: Connection,
  method: DescMethod,
  request: Message,
  registry: FileRegistry,
  result: DescField | undefined,
) {
  for await (const message of connection.serverStream(method, request)) {
    const value =
      result?.fieldKind === "message"
        ? messageJson(
            result.message,
            (message as Record<string, unknown>)[result.localName] as Message,
            registry,
            "all",
          )
        : messageJson(method.output, message, registry, "all");
    process.stdout.write(`${JSON.stringify(value)}\n`);
  }
}

async function printStream(
  connection: Connection,
  method: DescMethod,
  request: Message,
  registry: FileRegistry,
  printer: Printer,
) {
  const writer = printer.list();
  let started = false;
  try {
    for await (const message of connection.serverStream(method, request)) {
      started = true;
      writer.add([messageJson(method.output, message, registry, "all")]);
    }
  } finally {
    if (started) writer.end();
  }
}
