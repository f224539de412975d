import { create, type DescField, type DescMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { type Timestamp, TimestampSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { FieldModel } from "../../shared/field-model.js";

/**
 * How a message field is stored, decided by its kind alone, so that a field
 * added to the proto is stored with no edit here: strings, numbers and
 * booleans as they are; enums by the value's short name (`APPROVED`), so
 * that documents read well in a shell; timestamps as BSON dates; maps as
 * sub-documents; lists as arrays. An unset timestamp or enum is null, so
 * that every field sorts and filters the same way on MongoDB and FerretDB.
 */
export function documentValue(message: Message, field: DescField): unknown {
  const value = (message as unknown as Record<string, unknown>)[field.localName];
  switch (field.fieldKind) {
    case "scalar":
      return typeof value === "bigint" ? Number(value) : value;
    case "enum": {
      const named = field.enum.values.find((v) => v.number === value && v.number !== 0);
      return named ? named.localName : null;
    }
    case "message":
      if (field.message.typeName === TimestampSchema.typeName) {
        return value ? timestampDate(value as Timestamp) : null;
      }
      throw new Error(`${field.name}: messages other than Timestamp are not stored as user fields`);
    case "map":
      return { ...(value as Record<string, unknown>) };
    case "list":
      return [...(value as unknown[])];
  }
}

/** Set `field` of `message` from its stored value (absent: left unset). */
function setFromDocument(message: Message, field: DescField, stored: unknown): void {
  if (stored === undefined) return;
  const target = message as unknown as Record<string, unknown>;
  switch (field.fieldKind) {
    case "scalar":
      if (stored === null) return;
      // 64-bit integers are bigints in messages and numbers in documents.
      target[field.localName] = typeof target[field.localName] === "bigint" ? BigInt(stored as number) : stored;
      return;
    case "enum":
      target[field.localName] = field.enum.values.find((v) => v.localName === stored)?.number ?? 0;
      return;
    case "message":
      target[field.localName] = stored instanceof Date ? timestampFromDate(stored) : undefined;
      return;
    case "map":
      target[field.localName] = { ...(stored as Record<string, unknown>) };
      return;
    case "list":
      target[field.localName] = [...((stored as unknown[] | null) ?? [])];
      return;
  }
}

/** A message built from a (possibly projected) document: each model field the document holds. */
export function messageFromDocument<D extends DescMessage>(model: FieldModel, doc: object): MessageShape<D> {
  const message = create(model.message) as MessageShape<D>;
  const stored = doc as Record<string, unknown>;
  for (const spec of model.fields) if (!spec.computed) setFromDocument(message, spec.desc, stored[spec.name]);
  return message;
}

/** Whether a request message carries a value for the field (proto3: a non-zero value). */
export function isSetIn(message: Message, field: DescField): boolean {
  return reflect(field.parent, message).isSet(field);
}
