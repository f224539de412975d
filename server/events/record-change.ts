import { type ChangeScope, withChangeScope } from "../call-scope/change-scope.js";
import { failpoint, isFailpoint } from "../runtime/failpoints.js";
import type { Logger } from "../runtime/log.js";
import type { EventIntentDocument, EventRecord } from "../store/events-store.js";
import type { Store } from "../store/store.js";

/** What a change turned out to be about, known once it is made. */
export interface ChangeOutcome {
  user_ids: string[];
  paths: string[];
  object_ids: string[];
  /** False when the call changed nothing after all (an empty mask, a dry run): no event. */
  changed?: boolean;
  /** More events of the same change (`invitation.accept` next to `user.create`). */
  alsoNames?: string[];
}

export interface Change {
  /** The event, as known before the change (ids it names, paths asked for). */
  record: EventRecord;
  /** Made by versioned updates only (see event-table.ts). */
  versioned: boolean;
  /** When the recovery pass may judge the intent: the change's deadline plus a margin. */
  leaseMs: number;
  log: Pick<Logger, "warn">;
}

/**
 * Make a change and record its event, so that neither goes without the
 * other even when the process dies in between: the event is written as an
 * intent first, `run` makes the change (its write locks tagged with the intent,
 * see change-scope.ts), and the intent becomes the event, or is dropped
 * when the change failed having written nothing. A process that dies in
 * between leaves the intent to recoverEvents. Used by the event
 * interceptor for every RPC, and by anything else that changes users (SCIM).
 */
export async function recordChange<T>(
  store: Store,
  change: Change,
  run: () => Promise<T>,
  outcome: (result: T | undefined) => ChangeOutcome,
): Promise<T> {
  const { id, stored: opening } = store.events.openIntent(change.record, change.leaseMs, change.versioned);
  const ready = opening.then(() => failpoint("event:intent"));
  // Only writes wait for the intent; a call that writes nothing does not.
  ready.catch(() => {});
  const scope: ChangeScope = { intent: id, writes: 0, ready };
  let result: T;
  try {
    result = await withChangeScope(scope, run);
    await ready;
  } catch (err) {
    // A simulated crash leaves the intent as a real one would; one that
    // could not be stored has nothing to settle (no write went ahead).
    if (isFailpoint(err)) throw err;
    const intent = await opening.catch(() => undefined);
    if (!intent) throw err;
    // The call failed; it may still have changed something before failing.
    const landed = scope.writes === 0 ? false : await store.changeLanded(scope.intent).catch(() => undefined);
    if (landed) await confirm(store, change.log, intent, safely(outcome, undefined));
    else await store.events.dropIntent(intent._id).catch(() => {});
    throw err;
  }
  const intent = await opening;
  const final = safely(outcome, result);
  if (final.changed === false) {
    await store.events.dropIntent(intent._id);
    return result;
  }
  failpoint("event:confirm");
  await confirm(store, change.log, intent, final);
  for (const name of final.alsoNames ?? []) {
    await store.events
      .record({ ...change.record, ...details(final), name })
      .catch((err) => change.log.warn({ err, name }, "could not record an event"));
  }
  return result;
}

function details(outcome: ChangeOutcome): Pick<EventRecord, "user_ids" | "paths" | "object_ids"> {
  return { user_ids: outcome.user_ids, paths: outcome.paths, object_ids: outcome.object_ids };
}

function safely<T>(outcome: (result: T | undefined) => ChangeOutcome, result: T | undefined): ChangeOutcome {
  try {
    return outcome(result);
  } catch {
    return { user_ids: [], paths: [], object_ids: [] };
  }
}

async function confirm(
  store: Store,
  log: Pick<Logger, "warn">,
  intent: EventIntentDocument,
  outcome: ChangeOutcome,
): Promise<void> {
  try {
    await store.events.confirm({
      ...intent,
      user_ids: outcome.user_ids.length ? outcome.user_ids : intent.user_ids,
      paths: outcome.paths.length ? outcome.paths : intent.paths,
      object_ids: outcome.object_ids.length ? outcome.object_ids : intent.object_ids,
    });
  } catch (err) {
    // The change stands; the recovery pass records its event.
    log.warn({ err, event: intent.name }, "could not record an event; left for the recovery pass");
  }
}
