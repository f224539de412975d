import type { DescField } from "@bufbuild/protobuf";
import type { Options } from "yargs";
import { commandOptions, secretStdinFlag } from "./command-options.js";
import { fieldAt, shortEnumName } from "./descriptors.js";
import {
  claimName,
  enumValueName,
  type FieldFlag,
  flagName,
  isEtag,
  requestFlags,
  selectFlags,
  setFlags,
} from "./field-flags.js";
import type { MethodShape } from "./method-shape.js";
import { descriptionOf, summaryOf } from "./proto-comments.js";
import { argName, argPath, type RpcCommandSpec } from "./rpc-spec.js";

/** Flags of every command (see settings.ts); derived flags must not take their names. */
const reservedFlags = [
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
];

/** A boolean flag that sets a request field to one value. */
export interface PresetFlag {
  name: string;
  field: DescField;
  /** The value as proto3 JSON. */
  value: string;
}

/** The flags of one command, by role, as derived from the descriptors. */
export interface CommandFlags {
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
  /** The `--<field>-stdin` flag of each secret, by request field. */
  secretFlags: Map<string, string>;
}

/**
 * Name every flag of a command: its own options first, then the request
 * fields, which keep their names; the resource's fields, then the
 * selected ones, give way to them.
 */
export function deriveFlags(spec: RpcCommandSpec, shape: MethodShape): CommandFlags {
  const input = shape.method.input;
  const args = (spec.args ?? []).map(argName);
  const taken = new Set<string>([...reservedFlags, ...args]);
  const fixed: Record<string, Options> = {};
  for (const [name, option] of commandOptions(spec, shape)) fixed[claimName(name, "cli", taken)] = option;
  const secretFlags = new Map((spec.secrets ?? []).map((s) => [s.field, secretStdinFlag(s.field)]));

  const consumed = [
    ...(spec.args ?? []).map(argPath).filter((a) => !a.includes(".")),
    ...(spec.secrets ?? []).map((s) => s.field),
    ...[shape.resource, shape.updateMask, shape.readMask].filter((f) => f !== undefined).map((f) => f.name),
    ...(spec.batches ? [spec.batches.field, spec.batches.rowNumber ?? ""] : []),
    ...Object.keys(spec.fixed ?? {}).filter((p) => !p.includes(".")),
  ];
  const request = requestFlags(input, taken, consumed);
  const { set, etag } = resourceFlags(spec, shape, taken);

  let select: FieldFlag[] = [];
  const renamedSelect: FieldFlag[] = [];
  if (shape.readMask && shape.selectType) {
    const requestNames = new Set(request.map((f) => f.name));
    select = selectFlags(shape.selectType, taken);
    for (const flag of select)
      if (flag.name !== flagName(flag.path) && requestNames.has(flagName(flag.path))) renamedSelect.push(flag);
  }

  const presets = presetFlags(spec, shape, request);
  for (const preset of presets) fixed[claimName(preset.name, "cli", taken)] = preset.option;

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

/** The set flags of the resource's fields, and its etag's flag on updates. */
function resourceFlags(
  spec: RpcCommandSpec,
  shape: MethodShape,
  taken: Set<string>,
): { set: FieldFlag[]; etag?: FieldFlag } {
  if (!shape.resource) return { set: [] };
  const resource = shape.resource.message;
  const prefix = `${shape.resource.name}.`;
  const exclude = [...(spec.args ?? []).map(argPath), ...Object.keys(spec.fixed ?? {})]
    .filter((a) => a.startsWith(prefix))
    .map((a) => a.slice(prefix.length));
  const etagField = resource.fields.find(isEtag);
  const set = setFlags(resource, taken, {
    exclude: [...exclude, ...resource.fields.filter(isEtag).map((f) => f.name)],
    skipImmutable: shape.updateMask !== undefined,
  });
  if (!shape.updateMask || !etagField) return { set };
  const etag: FieldFlag = {
    name: claimName(flagName(etagField.name), "set", taken),
    path: etagField.name,
    field: etagField,
    option: { type: "string", requiresArg: true, describe: descriptionOf(etagField).replace(/\s+/g, " ") },
  };
  return { set, etag };
}

/** The spec's presets, with their help: an enum value's comment, or the value they set. */
function presetFlags(
  spec: RpcCommandSpec,
  shape: MethodShape,
  request: FieldFlag[],
): (PresetFlag & { option: Options })[] {
  return Object.entries(spec.presets ?? {}).map(([name, preset]) => {
    const field = fieldAt(shape.method.input, preset.field);
    const target = request.find((f) => f.path === preset.field);
    if (field.fieldKind !== "enum") {
      const describe = `sets ${target ? `--${target.name}` : preset.field} to ${preset.value}`;
      return { name, field, value: preset.value, option: { type: "boolean", describe } };
    }
    const value = enumValueName(field.enum, preset.value, `--${name}`);
    const enumValue = field.enum.values.find((v) => v.name === value);
    const same = `Same as --${target?.name ?? flagName(preset.field)} ${shortEnumName(field.enum, value)}.`;
    const describe = `${enumValue ? summaryOf(enumValue) : ""} ${same}`.trim();
    return { name, field, value, option: { type: "boolean", describe } };
  });
}

/** Whether a flag's parsed value says it was given without one. */
function isBare(value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.every((v) => v === "" || v === true);
}

/** The option of a filter flag that may also be given bare (see bareFiltersSelect). */
export function bareAllowed(option: Options): Options {
  const coerce = option.coerce;
  return { ...option, requiresArg: false, coerce: coerce && ((v: unknown) => (isBare(v) ? v : coerce(v))) };
}

/**
 * Filter flags given without a value (followed by another flag) that
 * share their name with a field: they select the field instead.
 */
export function bareFiltersSelect(flags: CommandFlags, argv: Record<string, unknown>): Record<string, unknown> {
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
