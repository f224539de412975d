import type { DescField, DescMethod, FileRegistry, Message } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { CliError, exitCodes } from "./errors.js";
import type { MethodShape } from "./method-shape.js";
import { messageJson, messagesOf, type Printer, type ShownPaths } from "./output.js";
import type { RpcCommandSpec } from "./rpc-spec.js";
import type { Connection } from "./transport.js";

/** Print a response: its resource when it has one, the whole response otherwise, nothing when it is empty. */
export function printResponse(
  shape: MethodShape,
  message: Message,
  registry: FileRegistry,
  printer: Printer,
  shown: ShownPaths,
): void {
  const fields = reflect(shape.method.output, message);
  const { result, resultType } = shape;
  const extrasUnset = (shape.resultExtras ?? []).every((f) => !fields.isSet(f));
  // A list is always there (an empty one prints as `[]`); a message when set.
  const present = result && (result.fieldKind === "list" || fields.isSet(result));
  if (result && resultType && shape.resultSaysAll && extrasUnset && present) {
    const items = messagesOf(fields, result).map((m) => messageJson(resultType, m, registry, shown));
    if (result.fieldKind === "list") {
      const writer = printer.list();
      writer.add(items);
      writer.end();
    } else if (items[0]) {
      printer.value(items[0]);
    }
    return;
  }
  const json = messageJson(shape.method.output, message, registry, "all");
  if (Object.keys(json).length > 0) printer.value(json);
}

/** Report the `missing` lists of a response on stderr, as a failure with exit code 4. */
export function reportMissing(spec: RpcCommandSpec, method: DescMethod, message: Message): void {
  const fields = reflect(method.output, message);
  const missing: string[] = [];
  for (const name of spec.missing ?? []) {
    const field = method.output.fields.find((f) => f.name === name);
    if (field?.fieldKind !== "list") continue;
    const values = [...fields.get(field)];
    if (values.length > 0) missing.push(values.join(", "));
  }
  if (missing.length > 0) throw new CliError(`not found: ${missing.join("; ")}`, exitCodes.notFound);
}

/** Print a server stream as one compact JSON object a line (its result alone, if it has one) as it arrives. */
export async function printLines(
  connection: Connection,
  method: DescMethod,
  request: Message,
  registry: FileRegistry,
  result: DescField | undefined,
): Promise<void> {
  for await (const message of connection.serverStream(method, request)) {
    const json =
      result?.fieldKind === "message"
        ? messageJson(result.message, reflect(method.output, message).get(result).message, registry, "all")
        : messageJson(method.output, message, registry, "all");
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }
}

/** Print a server stream's messages as one list. */
export async function printStream(
  connection: Connection,
  method: DescMethod,
  request: Message,
  registry: FileRegistry,
  printer: Printer,
): Promise<void> {
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
