import type { FileRegistry, Message } from "@bufbuild/protobuf";
import type { CommandFlags } from "./command-flags.js";
import { CliError, codeName, exitCodes, isConnectError, UsageError } from "./errors.js";
import { setJsonPath } from "./field-flags.js";
import { type MethodShape, shapeOf } from "./method-shape.js";
import { createPrinter, messageJson, type Printer } from "./output.js";
import { pageThrough, paging } from "./paging.js";
import { ask, canPrompt, confirm } from "./prompt.js";
import { argValue, buildRequest, type DraftRequest, draftRequest } from "./request-draft.js";
import { fillSecrets, withoutSecrets } from "./request-secrets.js";
import { printLines, printResponse, printStream, reportMissing } from "./response-output.js";
import { argName, type RpcCommandSpec } from "./rpc-spec.js";
import { resolveSettings, type Settings } from "./settings.js";
import { openConnection } from "./transport.js";

/**
 * Run a command: draft the request from the command line, complete it on
 * the terminal (arguments asked for, secrets, confirmation), then call the
 * method in the way the spec says (import, export, stream, pages, or one
 * call) and print what comes back.
 */
export async function runCommand(
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
  await askMissingArgs(spec, shape, draft);
  // Notes for stderr, written once the call succeeded (a failure says enough).
  const notes = await fillSecrets(draft.json, spec.secrets ?? [], flags, argv);
  if (spec.confirm && argv.force !== true) await confirmCall(spec.confirm(draft.json));

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
      notes.push(...(await showOutcome({ spec, shape: actual, draft, settings, registry, printer, message, error })));
    }
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
  } finally {
    connection.close();
  }
}

/** Ask on the terminal for the arguments left out that the spec asks for. */
async function askMissingArgs(spec: RpcCommandSpec, shape: MethodShape, draft: DraftRequest): Promise<void> {
  for (const path of draft.toAsk) {
    const label = spec.ask?.[path] as string;
    if (!canPrompt()) {
      throw new UsageError(`${argName(path)} needed: stdin is not a terminal, so give it as an argument`);
    }
    const [answer] = await ask([{ text: `${label}: ` }]);
    if (!answer?.trim()) throw new UsageError(`no ${label.toLowerCase()} given`);
    setJsonPath(draft.json, path, argValue(shape.method, path, answer.trim(), argName(path)));
  }
}

/** Ask `question` on the terminal; without one, or with a no, the command ends. */
async function confirmCall(question: string): Promise<void> {
  if (!canPrompt()) {
    throw new UsageError(`${question.replace(/\?.*$/, "")}: needs confirmation on a terminal; pass --force to skip it`);
  }
  if (!(await confirm(question))) throw new CliError("cancelled", exitCodes.failure);
}

/** Print the outcome of one call (or what `after` makes of it); returns `after`'s notes. */
async function showOutcome(o: {
  spec: RpcCommandSpec;
  shape: MethodShape;
  draft: DraftRequest;
  settings: Settings;
  registry: FileRegistry;
  printer: Printer;
  message?: Message;
  error: unknown;
}): Promise<string[]> {
  const { spec, draft, registry, message } = o;
  const { method } = draft;
  const after = spec.after
    ? await spec.after({
        request: withoutSecrets(draft.json, spec.secrets ?? []),
        response: message ? messageJson(method.output, message, registry, "all") : undefined,
        error: o.error,
        settings: o.settings,
      })
    : {};
  if (Array.isArray(after.show)) {
    const writer = o.printer.list();
    writer.add(after.show);
    writer.end();
  } else if (after.show !== undefined) {
    if (after.show !== null) o.printer.value(after.show);
  } else if (message) {
    printResponse(o.shape, message, registry, o.printer, draft.shown);
  }
  if (message) reportMissing(spec, method, message);
  return after.notes ?? [];
}
