import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The change a call is making, as its event intent knows it (see
 * events/event-interceptor.ts). The store tags the write locks it takes with the
 * intent, which is how a recovery pass tells a change that landed from one
 * that did not, and counts the writes, so that a failed call that wrote
 * nothing drops its intent at once.
 */
export interface ChangeScope {
  /** The intent's id (hex). */
  intent: string;
  /** Writes answered (or failed) during the call, events aside. */
  writes: number;
  /**
   * Settles once the intent is stored: the change's reads go ahead at once,
   * its writes wait for it (see store/database.ts), so that no write can land
   * without its intent while the intent costs the call no round trip of
   * its own.
   */
  ready?: Promise<unknown>;
}

const scopes = new AsyncLocalStorage<ChangeScope>();

/** Run `fn` as part of the change of `intent`. */
export function withChangeScope<T>(scope: ChangeScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, fn);
}

/** Run `fn` outside any change: its writes are not the current call's. */
export function outsideChangeScope<T>(fn: () => T): T {
  return scopes.exit(fn);
}

/** The change the current call is making, if any. */
export function changeScope(): ChangeScope | undefined {
  return scopes.getStore();
}

/** Collections that hold events themselves or only transient state. */
const notChanges = new Set(["events", "event_intents", "login_attempts"]);

/** Before a write to `collection`: wait until the current change's intent is stored. */
export function beforeWrite(collection: string): Promise<unknown> | undefined {
  const scope = scopes.getStore();
  return scope && !notChanges.has(collection) ? scope.ready : undefined;
}

/** Count a write to `collection` against the current change. */
export function noteWrite(collection: string): void {
  const scope = scopes.getStore();
  if (scope && !notChanges.has(collection)) scope.writes++;
}
