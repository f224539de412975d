import { outsideChangeScope } from "./change-scope.js";
import { outsideCallDeadline } from "./deadline.js";

/**
 * Run `fn` as background work, outside the call that started it: a call's
 * deadline, which aborts its database reads when the call ends, does not
 * reach it, and its writes are not taken for the call's change (events).
 * For work a call only sets going: delivering queued email and webhooks,
 * removing closed event intents, recording a failed sign-in.
 */
export function inBackground<T>(fn: () => T): T {
  return outsideCallDeadline(() => outsideChangeScope(fn));
}
