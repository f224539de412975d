import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { FieldViolation } from "../../shared/errors.js";

/**
 * Map keys no request may use, at any depth (attributes, settings and the
 * objects inside setting values, search filters): the properties every
 * JavaScript object inherits. Decoders store map entries in plain objects:
 * `__proto__` is not stored at all (assigning it sets the prototype), so the
 * entry would vanish without a word; the others read as inherited functions
 * wherever the key is absent. Computed once, before anything could add to
 * Object.prototype.
 */
export const inheritedKeys: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

const keyProblem = "must not be the name of a property every JavaScript object has (such as __proto__ or constructor)";

type Add = (path: string) => void;

function mapFieldNumbers(desc: DescMessage): Map<number, DescField> {
  return new Map(desc.fields.map((f) => [f.number, f]));
}

const fieldsByNumber = new WeakMap<DescMessage, Map<number, DescField>>();
function fieldOf(desc: DescMessage, no: number): DescField | undefined {
  let fields = fieldsByNumber.get(desc);
  if (!fields) {
    fields = mapFieldNumbers(desc);
    fieldsByNumber.set(desc, fields);
  }
  return fields.get(no);
}

/** The message a length-delimited field holds, if any. */
function messageOf(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  return undefined;
}

function scanBinary(desc: DescMessage, bytes: Uint8Array, path: string, add: Add): void {
  const reader = new BinaryReader(bytes);
  const counts = new Map<number, number>();
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const field = fieldOf(desc, no);
    if (!field || wireType !== WireType.LengthDelimited || (field.fieldKind !== "map" && !messageOf(field))) {
      reader.skip(wireType, no);
      continue;
    }
    const data = reader.bytes();
    if (field.fieldKind === "map") {
      let key: unknown;
      let value: Uint8Array | undefined;
      const entry = new BinaryReader(data);
      while (entry.pos < entry.len) {
        const [entryNo, entryWireType] = entry.tag();
        if (entryNo === 1 && entryWireType === WireType.LengthDelimited) key = entry.string();
        else if (entryNo === 2 && entryWireType === WireType.LengthDelimited) value = entry.bytes();
        else entry.skip(entryWireType, entryNo);
      }
      const keyPath = `${path}${field.name}.${String(key ?? "")}`;
      if (typeof key === "string" && inheritedKeys.has(key)) add(keyPath);
      if (field.mapKind === "message" && value) scanBinary(field.message, value, `${keyPath}.`, add);
    } else {
      const message = messageOf(field) as DescMessage;
      let name = field.name;
      if (field.fieldKind === "list") {
        const i = counts.get(no) ?? 0;
        counts.set(no, i + 1);
        name += `[${i}]`;
      }
      scanBinary(message, data, `${path}${name}.`, add);
    }
  }
}

function scanJson(value: unknown, path: string, add: Add): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) scanJson(item, `${path.slice(0, -1)}[${i}].`, add);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (inheritedKeys.has(key)) add(path + key);
      scanJson(item, `${path}${key}.`, add);
    }
  }
}

/**
 * Map keys of a request that name inherited properties, found in the
 * request as sent, before a decoder can drop them: `binary` is the
 * message's protobuf encoding, walked along its schema; `json` is its
 * JSON form as parsed (where such a key can only be a map key or an
 * unknown field, which is refused anyway). Paths use the field names of
 * the encoding.
 */
export function inheritedKeyViolations(
  schema: DescMessage,
  request: { binary: Uint8Array } | { json: unknown },
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const add: Add = (field) => violations.push({ field, description: keyProblem });
  if ("binary" in request) scanBinary(schema, request.binary, "", add);
  else scanJson(request.json, "", add);
  return violations;
}
