import {
  create,
  type DescMethod,
  type FileRegistry,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
} from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import type { CommandFlags } from "./command-flags.js";
import { fieldAt, findMethod } from "./descriptors.js";
import { UsageError } from "./errors.js";
import { flagName, setJsonPath, valueOption } from "./field-flags.js";
import type { MethodShape } from "./method-shape.js";
import type { ShownPaths } from "./output.js";
import { argPath, isOptional, type RpcCommandSpec } from "./rpc-spec.js";

/** A request as proto3 JSON, and what its masks hold, before secrets and confirmation. */
export interface DraftRequest {
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
export function draftRequest(
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
      setJsonPath(json, path, argValue(shape.method, path, values[0] as string, name));
    }
  });
  if (spec.without && omitted > 0 && omitted === (spec.args ?? []).filter(isOptional).length) {
    method = findMethod(registry, spec.without.rpc);
  }
  for (const flag of flags.request) {
    if (argv[flag.name] !== undefined) setJsonPath(json, flag.path, argv[flag.name] as never);
  }
  applyPresets(json, flags, argv);

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
    if (spec.records) {
      // An export without field flags exports every field: an empty mask.
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

/** The presets given, into `json`; one field set twice (by two presets, or a preset and its flag) is an error. */
function applyPresets(json: JsonObject, flags: CommandFlags, argv: Record<string, unknown>): void {
  for (const preset of flags.presets) {
    if (argv[preset.name] !== true) continue;
    const path = preset.field.name;
    if (json[path] !== undefined) {
      const others = flags.presets.filter((p) => p.field === preset.field && argv[p.name] === true).map((p) => p.name);
      const flag = flags.request.find((f) => f.field === preset.field);
      if (flag && argv[flag.name] !== undefined) others.push(flag.name);
      throw new UsageError(`${others.map((o) => `--${o}`).join(", ")}: give only one of them`);
    }
    json[path] = preset.value;
  }
}

/** A positional argument (or an answer in its place) as the proto3 JSON value of its field, typed as a flag would be. */
export function argValue(method: DescMethod, path: string, text: string, name: string): JsonValue {
  const coerce = valueOption(fieldAt(method.input, path), `<${name}>`).coerce;
  if (!coerce) return text;
  try {
    return coerce(text) as JsonValue;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Paths from flags and `--field-mask`/`--unset` values: dashes are never part of a proto name. */
function pathList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => String(v).split(","))
    .map((p) => p.trim().replaceAll("-", "_"))
    .filter(Boolean);
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

/** The request message of a finished draft: its JSON, and its masks as drafted. */
export function buildRequest(shape: MethodShape, draft: DraftRequest, registry: FileRegistry): Message {
  let request: Message;
  try {
    request = fromJson(shape.method.input, draft.json, { registry });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const fields = reflect(shape.method.input, request);
  const masks = [
    [shape.readMask, draft.readPaths],
    [shape.updateMask, draft.updatePaths],
  ] as const;
  for (const [field, paths] of masks) {
    if (field && paths) fields.set(field, reflect(FieldMaskSchema, create(FieldMaskSchema, { paths })));
  }
  return request;
}
