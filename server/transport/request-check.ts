import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { invalidArgument } from "../../shared/errors.js";
import { requestProblems } from "../requests/request-rules.js";

function check(schema: DescMessage, message: Message): void {
  const problems = requestProblems(schema, message);
  if (problems.length > 0) throw invalidArgument(problems);
}

async function* checked(schema: DescMessage, messages: AsyncIterable<Message>): AsyncIterable<Message> {
  for await (const message of messages) {
    check(schema, message);
    yield message;
  }
}

/**
 * Refuse requests that break the rules every request follows (enum values,
 * string limits and characters, time ranges: see request-rules.ts) with
 * INVALID_ARGUMENT naming each field, before a handler sees them. Streamed
 * requests are checked message by message.
 */
export function requestCheckInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      check(req.method.input, req.message);
      return next(req);
    }
    return next({ ...req, message: checked(req.method.input, req.message) });
  };
}
