import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  createFileRegistry,
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  type FileRegistry,
  fromBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * Developer option: a FileDescriptorSet (`buf build --as-file-descriptor-set`)
 * to build the commands from instead of the one shipped in `gen/`. It shows
 * what a changed proto file does to the CLI before any code is regenerated.
 */
export const descriptorsVariable = "ROSTER_CLI_DESCRIPTORS";

/** The descriptor set made by `npm run generate`, with source comments. */
const shippedDescriptors = fileURLToPath(new URL("../../gen/roster.binpb", import.meta.url));

/**
 * Every proto file of the API, read at start-up rather than imported from
 * generated code, so that flags and help texts follow the descriptors
 * (including their comments) and a new field needs no change in `cli/`.
 */
export function loadRegistry(path = process.env[descriptorsVariable] || shippedDescriptors): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
}

/** The method `roster.v1.UserRegistry.Get` (service type name, dot, method name). */
export function findMethod(registry: FileRegistry, fullName: string): DescMethod {
  const dot = fullName.lastIndexOf(".");
  const service = registry.getService(fullName.slice(0, dot));
  const method = service?.methods.find((m) => m.name === fullName.slice(dot + 1));
  if (!method) throw new Error(`the descriptors have no method ${fullName}`);
  return method;
}

export function findService(registry: FileRegistry, typeName: string): DescService {
  const service = registry.getService(typeName);
  if (!service) throw new Error(`the descriptors have no service ${typeName}`);
  return service;
}

export function findField(message: DescMessage, name: string): DescField {
  const field = message.fields.find((f) => f.name === name);
  if (!field) throw new Error(`${message.typeName} has no field ${name}`);
  return field;
}

/** The field at a dotted path below `message` (`user.user_id`). */
export function fieldAt(message: DescMessage, path: string): DescField {
  const [head, ...rest] = path.split(".") as [string, ...string[]];
  const field = findField(message, head);
  if (rest.length === 0) return field;
  if (field.fieldKind !== "message") throw new Error(`${path}: ${head} is not a message`);
  return fieldAt(field.message, rest.join("."));
}

/**
 * Well-known types, which have a JSON form of their own (a timestamp is
 * RFC 3339, a duration "1.5s", a Struct a JSON object): a flag takes them
 * as one value instead of one flag per inner field.
 */
export function isScalarLike(message: DescMessage): boolean {
  return message.typeName.startsWith("google.protobuf.");
}

export function isFieldMask(field: DescField): boolean {
  return field.fieldKind === "message" && field.message.typeName === "google.protobuf.FieldMask";
}

/** Enum value names without their shared prefix: `APPROVED` for `STATE_APPROVED`. */
export function shortEnumNames(desc: DescEnum): string[] {
  return desc.values.filter((v) => v.number !== 0).map((v) => shortEnumName(desc, v.name));
}

/**
 * The prefix all values of an enum share, up to an underscore: `STATE_`,
 * `MERGE_API_KEYS_`. Computed from the names themselves, because
 * protobuf-es derives its own from the enum's name and misses acronyms
 * (`MergeAPIKeys` gives `merge_a_p_i_keys_`).
 */
export function enumPrefix(desc: DescEnum): string {
  const names = desc.values.map((v) => v.name);
  if (names.length < 2) return "";
  let prefix = names[0] as string;
  for (const name of names) {
    while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  prefix = prefix.slice(0, prefix.lastIndexOf("_") + 1);
  // A prefix that would leave a name empty or starting with a digit is no prefix.
  return names.every((n) => /^[A-Za-z]/.test(n.slice(prefix.length))) ? prefix : "";
}

export function shortEnumName(desc: DescEnum, name: string): string {
  const prefix = enumPrefix(desc);
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}
