import { Code } from "@connectrpc/connect";
import { MongoError, MongoNetworkError, MongoServerSelectionError } from "mongodb";

/**
 * The RPC code of a database failure that is not a bug: a deadline passed
 * (`maxTimeMS`) or the database is out of reach. Undefined for other errors.
 */
export function databaseErrorCode(err: unknown): Code | undefined {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return Code.Unavailable;
  if (err instanceof MongoError && (err.code === 50 || err.name === "MongoOperationTimeoutError")) {
    return Code.DeadlineExceeded;
  }
  return undefined;
}
