import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
  fromJson,
  type JsonObject,
  type Message,
} from "@bufbuild/protobuf";
import type { Argv, CommandModule, Options } from "yargs";
import { findField, findMethod, isFieldMask, isScalarLike } from "./descriptors.js";
import { CliError, exitCodes, UsageError } from "./errors.js";
import {
  claimName,
  type FieldFlag,
  flagName,
  isEtag,
  requestFlags,
  selectFlags,
  setFlags,
  setJsonPath,
} from "./field-flags.js";
import { createPrinter, messageJson, type Printer, type ShownPaths } from "./output.js";
import { pageThrough, paging } from "./paging.js";
import { ask, askNewSecret, canPrompt, confirm, readStdin } from "./prompt.js";
import { descriptionOf, summaryOf } from "./proto-comments.js";
import { resolveSettings } from "./settings.js";
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
  /** Request field paths taken from positional arguments, in order (`user.user_id`). */
  args?: readonly string[];
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
  /** Help text instead of the method's comment. */
  describe?: string;
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
}

/** Response fields the paging code reports on stderr. */
const pagingResponseFields = ["next_page_token", "total_size"];

function shapeOf(method: DescMethod, reported: readonly string[] = []): MethodShape {
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
    shape.resultSaysAll = method.output.fields.every(
      (f) => f === result || pagingResponseFields.includes(f.name) || reported.includes(f.name),
    );
  }
  return shape;
}

/** The name of a positional argument: the last part of its path, with dashes (`a.b_c` → `b-c`). */
function argName(path: string): string {
  return flagName(path.split(".").at(-1) as string);
}

/** Paths from flags and `--field-mask`/`--unset` values: dashes are never part of a proto name. */
function pathList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => String(v).split(","))
    .map((p) => p.trim().replaceAll("-", "_"))
    .filter(Boolean);
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
  fixed: Record<string, Options>;
  secretFlags: Map<string, string>;
}

function deriveFlags(spec: RpcCommandSpec, shape: MethodShape): CommandFlags {
  const input = shape.method.input;
  const args = (spec.args ?? []).map(argName);
  const taken = new Set<string>([...reservedFlags, ...args]);
  const fixed: Record<string, Options> = {};
  const secretFlags = new Map<string, string>();
  const fix = (name: string, option: Options) => {
    fixed[claimName(name, "cli", taken)] = option;
  };

  if (shape.readMask && shape.resultType) {
    fix("all", { type: "boolean", describe: "return every field the caller may read" });
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
    fix(name, {
      type: "boolean",
      describe:
        secret.prompt === false
          ? `read the ${secret.label.toLowerCase()} from stdin`
          : `read the ${secret.label.toLowerCase()} from stdin instead of prompting on the terminal`,
    });
    secretFlags.set(secret.field, name);
  }
  if (spec.confirm) fix("force", { type: "boolean", alias: "f", describe: "do not ask for confirmation" });

  // Request fields keep their names; the resource's fields, then the
  // selected ones, give way to them.
  const consumed = [
    ...(spec.args ?? []).filter((a) => !a.includes(".")),
    ...(spec.secrets ?? []).map((s) => s.field),
    ...[shape.resource, shape.updateMask, shape.readMask].filter((f) => f !== undefined).map((f) => f.name),
  ];
  const request = requestFlags(input, taken, consumed);

  let set: FieldFlag[] = [];
  let etag: FieldFlag | undefined;
  if (shape.resource) {
    const prefix = `${shape.resource.name}.`;
    const exclude = (spec.args ?? []).filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));
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
  if (shape.readMask && shape.resultType) {
    const requestNames = new Set(request.map((f) => f.name));
    select = selectFlags(shape.resultType, taken);
    for (const flag of select)
      if (flag.name !== flagName(flag.path) && requestNames.has(flagName(flag.path))) renamedSelect.push(flag);
  }
  return { args, request, set, etag, select, renamedSelect, fixed, secretFlags };
}

/** Turn a declared command into a yargs command module; `parents` prefix its usage line (`users `). */
export function rpcCommand(registry: FileRegistry, spec: RpcCommandSpec, parents = ""): CommandModule {
  const method = findMethod(registry, spec.rpc);
  const shape = shapeOf(method, spec.missing);
  // Derived when the command runs or shows its help, not for every command at start-up.
  let derived: CommandFlags | undefined;
  const flagsOf = () => {
    derived ??= deriveFlags(spec, shape);
    return derived;
  };
  const [name, ...aliases] = typeof spec.command === "string" ? [spec.command] : spec.command;
  const args = (spec.args ?? []).map(argName);
  const positionals = args.map((a, i) => (spec.many && i === args.length - 1 ? `<${a}..>` : `<${a}>`));
  const describe = spec.describe ?? descriptionOf(method);

  return {
    command: [name, ...positionals].join(" "),
    aliases,
    describe: spec.describe ?? summaryOf(method),
    builder: (yargs: Argv) => {
      const flags = flagsOf();
      let y = yargs.usage(`$0 ${parents}${[name, ...positionals].join(" ")}\n\n${describe}`);
      (spec.args ?? []).forEach((path, i) => {
        const field = fieldAt(method.input, path);
        y = y.positional(flags.args[i] as string, {
          type: "string",
          describe: descriptionOf(field).replace(/\s+/g, " "),
        });
      });
      const add = (list: FieldFlag[], group: string) => {
        for (const flag of list) y = y.option(flag.name, { ...flag.option, group });
      };
      add(flags.request, groups.request);
      add(flags.set, groups.set);
      if (flags.etag) add([flags.etag], groups.request);
      add(flags.select, groups.select);
      for (const [flag, option] of Object.entries(flags.fixed))
        y = y.option(flag, { ...option, group: groups.command });
      return y.epilogue(epilogue(shape, flags));
    },
    handler: async (argv) => run(registry, spec, shape, flagsOf(), argv as Record<string, unknown>),
  };
}

function fieldAt(message: DescMessage, path: string): DescField {
  const [head, ...rest] = path.split(".") as [string, ...string[]];
  const field = findField(message, head);
  if (rest.length === 0) return field;
  if (field.fieldKind !== "message") throw new Error(`${path}: ${head} is not a message`);
  return fieldAt(field.message, rest.join("."));
}

function epilogue(shape: MethodShape, flags: CommandFlags): string {
  const notes: string[] = [];
  if (shape.readMask && shape.resultType) {
    const first = shape.resultType.fields[0]?.name;
    notes.push(
      `Without field flags, --all or --field-mask, only ${first} is asked for (the server adds the fields it always returns).`,
    );
  }
  if (flags.renamedSelect.length > 0) {
    const filters = flags.renamedSelect.map((f) => `--${flagName(f.path)}`).join(", ");
    const renamed = flags.renamedSelect.map((f) => `--${f.name}`).join(", ");
    notes.push(`Here ${filters} filter the request; to return those fields, use ${renamed} (or --all, --field-mask).`);
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
  (spec.args ?? []).forEach((path, i) => {
    const value = argv[flags.args[i] as string];
    const values = (Array.isArray(value) ? value : [value]).map(String);
    if (spec.many && i === flags.args.length - 1 && values.length > 1) {
      method = findMethod(registry, spec.many.rpc);
      json[spec.many.field] = values;
    } else {
      setJsonPath(json, path, values[0]);
    }
  });
  for (const flag of flags.request) {
    if (argv[flag.name] !== undefined) setJsonPath(json, flag.path, argv[flag.name] as never);
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
  const draft: DraftRequest = { method, json, setPaths, shown: setPaths };
  if (shape.updateMask) draft.updatePaths = updatePaths(flags, setPaths, pathList(argv.unset));
  if (shape.readMask && shape.resultType) {
    const selected = [
      ...flags.select.filter((f) => argv[f.name] === true).map((f) => f.path),
      ...pathList(argv["field-mask"]),
    ];
    if (argv.all === true) {
      if (selected.length > 0) {
        throw new UsageError("--all selects every field; leave out the field flags and --field-mask");
      }
      draft.readPaths = [];
      draft.shown = "all";
    } else {
      // Like ttn-lw-cli: a read without field flags asks for the id only.
      draft.readPaths = selected.length > 0 ? [...new Set(selected)] : [shape.resultType.fields[0]?.name as string];
      draft.shown = draft.readPaths;
    }
  }
  return draft;
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
  const settings = await resolveSettings(argv);
  const draft = draftRequest(registry, spec, shape, flags, argv);

  // Notes for stderr, written once the call succeeded (a failure says enough).
  const notes: string[] = [];
  for (const secret of spec.secrets ?? []) {
    const stdinFlag = flags.secretFlags.get(secret.field) as string;
    const { value, note } = await readSecret(secret, stdinFlag, argv[stdinFlag] === true);
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
  const actual = method === shape.method ? shape : shapeOf(method, spec.missing);
  const request = buildRequest(actual, draft, registry);
  const printer = await createPrinter(settings.output);
  const connection = await openConnection(settings, registry);
  try {
    if (method.methodKind === "server_streaming") {
      await printStream(connection, method, request, registry, printer);
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
      const { message } = await connection.unary(method, request);
      printResponse(actual, message, registry, printer, draft.shown);
      reportMissing(spec, method, message);
    }
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
  } finally {
    connection.close();
  }
}

/** A secret from stdin or typed on the terminal; empty, with a note, when there is none to read. */
async function readSecret(
  secret: SecretSpec,
  stdinFlag: string,
  fromStdin: boolean,
): Promise<{ value: string; note?: string }> {
  const label = secret.label.toLowerCase();
  if (fromStdin) {
    const value = await readStdin();
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
  return { value: "", note: `no ${label} set (stdin is not a terminal; --${stdinFlag} reads one)` };
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
  if (result && resultType && shape.resultSaysAll && fields[result.localName] !== undefined) {
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
