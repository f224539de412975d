import type { Logger } from "../runtime/log.js";
import type { Store } from "../store/store.js";

/**
 * Settle the event intents whose lease has passed (their process died, or
 * could not reach the database, between a change and its event): record
 * the event when the change happened, drop the intent when it did not.
 * Whether it happened is read from the write locks the change took (write-locks.ts);
 * a change that takes none (an insert, a delete) cannot be told apart from
 * one that never started, and is recorded, marked `recovered`, rather than
 * risk a change without its event.
 */
export async function recoverEvents(store: Store, log: Pick<Logger, "info" | "warn">): Promise<number> {
  let settled = 0;
  for (const intent of await store.events.staleIntents(new Date())) {
    try {
      const landed = await store.changeLanded(intent._id.toHexString());
      if (landed === false || (landed === undefined && intent.versioned)) {
        await store.events.dropIntent(intent._id);
        log.info(
          { event: intent.name, intent: intent._id.toHexString() },
          "dropped the event of a change that did not happen",
        );
      } else {
        const done = await store.events.confirm(intent, true);
        log.info({ event: intent.name, id: done._id }, "recorded the event of an interrupted change");
      }
      settled++;
    } catch (err) {
      log.warn({ err, event: intent.name }, "could not settle an event intent");
    }
  }
  await store.events.flush();
  return settled;
}
