import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";

/** What the console shows of a failed call: the server's own words. */
export interface ErrorReport {
  /** gRPC code name, as the proto files and the CLI spell it: `NOT_FOUND`. */
  code: string;
  /** The server's message, without connect's `[code]` prefix. */
  message: string;
  /** `google.rpc.ErrorInfo` reason, such as `USER_NOT_FOUND`, if the server sent one. */
  reason?: string;
  /** `google.rpc.BadRequest` field violations, as `field: description`. */
  fields: string[];
  /** The same violations, for showing each next to its control. */
  violations: { field: string; description: string }[];
  /** The error is ABORTED: the resource changed since it was read. */
  conflict: boolean;
}

/** `NotFound` -> `NOT_FOUND`. */
function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Describe any error thrown by a client call (a network failure becomes UNAVAILABLE or UNKNOWN). */
export function reportOf(error: unknown): ErrorReport {
  const e = ConnectError.from(error);
  const reason = e.findDetails(ErrorInfoSchema).find((info) => info.reason)?.reason;
  const violations = e
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
  const fields = violations.map((v) => `${v.field}: ${v.description}`);
  return {
    code: codeName(e.code),
    message: e.rawMessage,
    reason,
    fields,
    violations,
    conflict: e.code === Code.Aborted,
  };
}

/** One line, the way the CLI prints it: `NOT_FOUND: user x not found (reason USER_NOT_FOUND)`. */
export function errorLine(report: ErrorReport): string {
  return `${report.code}: ${report.message}${report.reason ? ` (reason ${report.reason})` : ""}`;
}
