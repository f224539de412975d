import type { HandlerContext } from "@connectrpc/connect";

/**
 * Time left for the database, in ms: the client's deadline if it set one,
 * otherwise the server's default. Passed to MongoDB as `maxTimeMS`.
 */
export function maxTimeMS(ctx: HandlerContext, defaultDeadlineMs: number): number {
  return Math.max(1, Math.floor(ctx.timeoutMs() ?? defaultDeadlineMs));
}
