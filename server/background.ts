import { AsyncResource } from "node:async_hooks";

// Made when the server loads, outside any call: its async context holds no
// call deadline (deadline.ts) and no change scope (store/change-scope.ts).
const root = new AsyncResource("roster-background");

/**
 * Run `fn` as background work, outside the call that started it: a call's
 * deadline, which aborts its database operations when the call ends, does
 * not reach it, and its writes are not part of the call's change (events).
 * For work a call only sets going, such as delivering queued email.
 */
export function inBackground<T>(fn: () => T): T {
  return root.runInAsyncScope(fn);
}
