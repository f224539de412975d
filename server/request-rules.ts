import type { DescEnum, DescMessage, Message } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { FieldViolation } from "./errors.js";

/**
 * What every request may carry, checked from the descriptors in one place
 * (the request check interceptor) before any handler runs:
 *
 * - enum fields hold a value their enum defines (proto3 enums are open: a
 *   client may send any number), and list elements are not the enum's zero
 *   value, which means "not set";
 * - google.protobuf.Timestamp and Duration values are in the range the
 *   protobuf specification defines.
 *
 * The values of google.protobuf.Struct and Value (settings) are JSON,
 * bounded by the settings' own limits, and not looked into.
 */

/**
 * Fields whose contents a handler checks element by element with
 * `requestProblems`, reporting each element on its own: Import reports an
 * invalid row as INVALID and imports the others.
 */
const checkedPerElement = new Set(["roster.v1.ImportUsersRequest.users"]);

/** JSON-valued well-known types: the settings' business. */
const jsonTypes = new Set(["google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"]);

/** Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the Timestamp range. */
const minTimestampSeconds = -62135596800n;
const maxTimestampSeconds = 253402300799n;
/** About 10,000 years, the Duration range. */
const maxDurationSeconds = 315576000000n;

const enumNumbers = new WeakMap<DescEnum, Set<number>>();
function definedNumbers(e: DescEnum): Set<number> {
  let numbers = enumNumbers.get(e);
  if (!numbers) {
    numbers = new Set(e.values.map((v) => v.number));
    enumNumbers.set(e, numbers);
  }
  return numbers;
}

type Add = (path: string, description: string) => void;

function checkEnum(e: DescEnum, value: number, path: string, inList: boolean, add: Add): void {
  if (!definedNumbers(e).has(value)) {
    add(path, `${value} is not a value of ${e.typeName}`);
  } else if (inList && value === 0) {
    add(path, `must not be ${e.values.find((v) => v.number === 0)?.name ?? "0"}`);
  }
}

function checkWellKnown(message: ReflectMessage, path: string, add: Add): boolean {
  const typeName = message.desc.typeName;
  if (typeName !== "google.protobuf.Timestamp" && typeName !== "google.protobuf.Duration") return false;
  const { seconds, nanos } = message.message as unknown as { seconds: bigint; nanos: number };
  if (typeName === "google.protobuf.Timestamp") {
    if (seconds < minTimestampSeconds || seconds > maxTimestampSeconds || nanos < 0 || nanos > 999_999_999) {
      add(path, "must be a time between the years 1 and 9999");
    }
  } else if (
    seconds < -maxDurationSeconds ||
    seconds > maxDurationSeconds ||
    nanos < -999_999_999 ||
    nanos > 999_999_999 ||
    (seconds > 0n && nanos < 0) ||
    (seconds < 0n && nanos > 0)
  ) {
    add(path, "must be a duration of at most 10,000 years, with seconds and nanos of one sign");
  }
  return true;
}

function checkMessage(message: ReflectMessage, prefix: string, add: Add): void {
  if (jsonTypes.has(message.desc.typeName) || checkWellKnown(message, prefix.slice(0, -1), add)) return;
  for (const field of message.fields) {
    if (!message.isSet(field) || checkedPerElement.has(`${field.parent.typeName}.${field.name}`)) continue;
    const path = prefix + field.name;
    switch (field.fieldKind) {
      case "enum":
        checkEnum(field.enum, message.get(field), path, false, add);
        break;
      case "message":
        checkMessage(message.get(field), `${path}.`, add);
        break;
      case "list": {
        let i = 0;
        for (const item of message.get(field)) {
          const itemPath = `${path}[${i++}]`;
          if (field.listKind === "enum") checkEnum(field.enum, item as number, itemPath, true, add);
          else if (field.listKind === "message") checkMessage(item as ReflectMessage, `${itemPath}.`, add);
        }
        break;
      }
      case "map":
        for (const [key, value] of message.get(field)) {
          const valuePath = `${path}.${String(key)}`;
          if (field.mapKind === "enum") checkEnum(field.enum, value as number, valuePath, false, add);
          else if (field.mapKind === "message") checkMessage(value as ReflectMessage, `${valuePath}.`, add);
        }
        break;
    }
  }
}

/**
 * Every violation of the rules above in `message`, each naming its field
 * path (`kind`, `rights[2]`, `users[0].user.state`), prefixed by `prefix`.
 */
export function requestProblems<Desc extends DescMessage>(
  schema: Desc,
  message: Message,
  prefix = "",
): FieldViolation[] {
  const problems: FieldViolation[] = [];
  checkMessage(reflect(schema, message as never), prefix, (field, description) =>
    problems.push({ field, description }),
  );
  return problems;
}
