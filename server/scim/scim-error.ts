import { Code, ConnectError } from "@connectrpc/connect";
import { errEtagMismatch } from "../../shared/errors.js";
import { databaseErrorCode } from "../store/database-errors.js";
import { errorSchema } from "./scim-schemas.js";

/** The `scimType` values of RFC 7644 section 3.12. */
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive";

/** An error answer of the SCIM service: an HTTP status, maybe a scimType, and a detail. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
  }

  /** The response body (RFC 7644 section 3.12). */
  body() {
    return {
      schemas: [errorSchema],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.message,
    };
  }
}

/**
 * The SCIM answer to an error of the registry logic, or undefined for a
 * stray exception (an internal error).
 */
export function scimErrorOf(err: unknown): ScimError | undefined {
  if (err instanceof ScimError) return err;
  if (!(err instanceof ConnectError)) {
    const dbCode = databaseErrorCode(err);
    if (dbCode === undefined) return undefined;
    return new ScimError(503, "the database is unavailable or did not answer in time");
  }
  const e: ConnectError = err;
  if (errEtagMismatch.is(err)) return new ScimError(412, e.rawMessage);
  switch (e.code) {
    case Code.InvalidArgument:
      return new ScimError(400, e.rawMessage, "invalidValue");
    case Code.NotFound:
      return new ScimError(404, e.rawMessage);
    case Code.AlreadyExists:
      return new ScimError(409, e.rawMessage, "uniqueness");
    case Code.FailedPrecondition:
      return new ScimError(400, e.rawMessage, "invalidValue");
    case Code.Aborted:
      return new ScimError(409, e.rawMessage);
    case Code.Unauthenticated:
      return new ScimError(401, e.rawMessage);
    case Code.PermissionDenied:
      return new ScimError(403, e.rawMessage);
    case Code.DeadlineExceeded:
    case Code.Unavailable:
      return new ScimError(503, e.rawMessage);
    default:
      return undefined;
  }
}
