import type { FileRegistry } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";

/**
 * Exit codes of `roster`, so that scripts can tell a missing user from a
 * server that is down without parsing messages.
 */
export const exitCodes = {
  ok: 0,
  /** Any failure without a code of its own (internal errors, a declined confirmation). */
  failure: 1,
  /** The command line is wrong; nothing was sent. */
  usage: 2,
  /** The server rejected the request: INVALID_ARGUMENT, OUT_OF_RANGE. */
  invalid: 3,
  /** NOT_FOUND, or some of the ids asked for do not exist. */
  notFound: 4,
  /** ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION: the request conflicts with the current state. */
  conflict: 5,
  /** UNAUTHENTICATED, PERMISSION_DENIED. */
  denied: 6,
  /** UNAVAILABLE, DEADLINE_EXCEEDED: the server cannot be reached or did not answer in time. */
  unavailable: 7,
} as const;

/** The table of exit codes, for `--help` and docs/cli.md. */
export const exitCodeTable: readonly [number, string][] = [
  [exitCodes.ok, "success"],
  [exitCodes.failure, "other errors"],
  [exitCodes.usage, "usage error (bad flags or arguments; nothing was sent)"],
  [exitCodes.invalid, "INVALID_ARGUMENT, OUT_OF_RANGE"],
  [exitCodes.notFound, "NOT_FOUND (also: some ids of a batch get do not exist)"],
  [exitCodes.conflict, "ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION"],
  [exitCodes.denied, "UNAUTHENTICATED, PERMISSION_DENIED"],
  [exitCodes.unavailable, "UNAVAILABLE, DEADLINE_EXCEEDED (server down or too slow)"],
];

/** A mistake on the command line, found before anything is sent. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure that is not an RPC error, with its own exit code. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.failure,
  ) {
    super(message);
  }
}

/**
 * The gRPC status codes by number, as gRPC and the proto files spell them
 * (connect's `Code` enum has the same numbers), so that reporting an error
 * does not load connect just for its names.
 */
const codeNames = [
  "OK",
  "CANCELED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

const exitCodeByName: Partial<Record<(typeof codeNames)[number], number>> = {
  INVALID_ARGUMENT: exitCodes.invalid,
  OUT_OF_RANGE: exitCodes.invalid,
  NOT_FOUND: exitCodes.notFound,
  ALREADY_EXISTS: exitCodes.conflict,
  ABORTED: exitCodes.conflict,
  FAILED_PRECONDITION: exitCodes.conflict,
  UNAUTHENTICATED: exitCodes.denied,
  PERMISSION_DENIED: exitCodes.denied,
  UNAVAILABLE: exitCodes.unavailable,
  DEADLINE_EXCEEDED: exitCodes.unavailable,
};

/** An error from an RPC. Connect is loaded lazily, so the class is recognised by its name. */
export function isConnectError(err: unknown): err is ConnectError {
  return err instanceof Error && err.name === "ConnectError" && typeof (err as ConnectError).code === "number";
}

export function codeName(code: number): string {
  return codeNames[code] ?? `CODE_${code}`;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return exitCodes.usage;
  if (err instanceof CliError) return err.exitCode;
  if (!isConnectError(err)) return exitCodes.failure;
  return exitCodeByName[codeNames[err.code] as (typeof codeNames)[number]] ?? exitCodes.failure;
}

interface ErrorInfo {
  reason: string;
  metadata: Record<string, string>;
}
interface BadRequest {
  fieldViolations: { field: string; description: string }[];
}

/**
 * One line for stderr: the code, the server's message, and the details
 * that say more (the ErrorInfo reason, the fields a BadRequest names).
 */
export function errorLine(err: unknown, registry?: FileRegistry): string {
  if (!isConnectError(err)) return `error: ${err instanceof Error ? err.message : String(err)}`;
  const details: string[] = [];
  const errorInfo = registry?.getMessage("google.rpc.ErrorInfo");
  const badRequest = registry?.getMessage("google.rpc.BadRequest");
  const violations = badRequest
    ? (err.findDetails(badRequest) as unknown as BadRequest[]).flatMap((d) => d.fieldViolations)
    : [];
  for (const v of violations) {
    // The message usually lists the violations already; repeat only what it lacks.
    const text = `${v.field}: ${v.description}`;
    if (!err.rawMessage.includes(text)) details.push(text);
  }
  for (const info of errorInfo ? (err.findDetails(errorInfo) as unknown as ErrorInfo[]) : []) {
    details.push(`reason ${info.reason}`);
  }
  const message = err.rawMessage.replace(/\s+/g, " ").trim();
  if (/certificate|CERT_/i.test(message)) {
    details.push("the server's certificate is not trusted: --ca-file names its CA; --insecure skips the check");
  }
  return `error: ${codeName(err.code)}: ${message}${details.length > 0 ? ` (${details.join("; ")})` : ""}`;
}
