import { AsyncLocalStorage } from "node:async_hooks";
import type { HandlerContext } from "@connectrpc/connect";

/**
 * Time left for the database, in ms: the client's deadline if it set one,
 * otherwise the server's default. Passed to MongoDB as `maxTimeMS`.
 */
export function maxTimeMS(ctx: HandlerContext, defaultDeadlineMs: number): number {
  return Math.max(1, Math.floor(ctx.timeoutMs() ?? defaultDeadlineMs));
}

/** `maxTimeMS` bound to a service's default deadline: what its handlers pass to the store. */
export function databaseTimeout(defaultDeadlineMs: number): (ctx: HandlerContext) => number {
  return (ctx) => maxTimeMS(ctx, defaultDeadlineMs);
}

const callDeadline = new AsyncLocalStorage<AbortSignal>();

/** Run `fn` with `signal` as the current call's deadline (see `callSignal`). */
export function withCallDeadline<T>(signal: AbortSignal, fn: () => T): T {
  return callDeadline.run(signal, fn);
}

/**
 * The signal that aborts when the current RPC's deadline passes (or the call
 * ends early), for code that has no handler context, such as the store.
 */
export function callSignal(): AbortSignal | undefined {
  return callDeadline.getStore();
}

/** Run `fn` outside any call's deadline: work that outlives the call that started it. */
export function outsideCallDeadline<T>(fn: () => T): T {
  return callDeadline.exit(fn);
}
