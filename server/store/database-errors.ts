import { Code } from "@connectrpc/connect";
import {
  MongoError,
  MongoNetworkError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";

/**
 * The RPC code of a database failure that is not a bug: a deadline passed
 * (`maxTimeMS`, or the call's deadline aborted the operation) or the
 * database is out of reach (refused, reset, "socket has been ended",
 * no server selectable, pool cleared). Undefined for other errors. The one
 * place where database errors become RPC codes (see observeInterceptor).
 */
export function databaseErrorCode(err: unknown): Code | undefined {
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoTopologyClosedError
  ) {
    return Code.Unavailable;
  }
  if (err instanceof MongoError && (err.code === 50 || err.name === "MongoOperationTimeoutError")) {
    return Code.DeadlineExceeded;
  }
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) return Code.DeadlineExceeded;
  return undefined;
}
