import { recoverEvents } from "./events/event-recovery.js";
import type { Logger } from "./runtime/log.js";
import type { Store } from "./store/store.js";
import { operationLeaseMs, recoverOperations } from "./users/operation-recovery.js";

export interface SweeperOptions {
  /** How often to sweep (--sweep-interval). */
  intervalMs: number;
  /** How long events are kept (--event-retention). */
  eventRetentionMs: number;
  /** Sweeps wait until start-up is done, and stop with the server. */
  isReady: () => boolean;
}

/**
 * Every `intervalMs` while the server is ready: finish renames and merges
 * whose lease has passed, settle event intents, drop events past their
 * retention and expired records (tokens, invitations, write locks).
 * Failures are logged and tried again next time. Returns the timer's stop.
 */
export function startSweeper(store: Store, log: Logger, options: SweeperOptions): () => void {
  const sweeper = setInterval(() => {
    if (!options.isReady()) return;
    recoverOperations(store, log, { olderThanMs: operationLeaseMs }).catch((err) =>
      log.warn({ err }, "finishing interrupted operations failed"),
    );
    recoverEvents(store, log).catch((err) => log.warn({ err }, "settling event intents failed"));
    store.events
      .sweep(new Date(Date.now() - options.eventRetentionMs))
      .catch((err) => log.warn({ err }, "sweeping events failed"));
    store.sweep(new Date()).then(
      (counts) => log.debug({ counts }, "swept"),
      (err) => log.warn({ err }, "sweep failed"),
    );
  }, options.intervalMs);
  sweeper.unref();
  return () => clearInterval(sweeper);
}
