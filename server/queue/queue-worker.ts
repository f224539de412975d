import { inBackground } from "../call-scope/background.js";
import type { Logger } from "../runtime/log.js";
import type { QueuedDocument, QueueStore } from "../store/queue-store.js";

/** What one attempt at an entry came to. */
export interface AttemptOutcome<T> {
  /** Delivered: the entry is settled `sent`. */
  ok: boolean;
  /** Why it failed. */
  error?: string;
  /** More fields to store with the outcome. */
  set?: Partial<T>;
  /** Not attempted after all (no attempt counted): look again at this time. */
  postpone?: Date;
  /** Give up now, whatever attempts are left (the entry's purpose is gone). */
  final?: boolean;
}

/** What was stored after an attempt. */
export interface Settled<T> {
  entry: T;
  status: "sent" | "pending" | "failed";
  attempts: number;
  outcome: AttemptOutcome<T>;
}

export interface QueueWorkerOptions<T extends QueuedDocument> {
  /** What the entries are, in log lines ("email", "webhook delivery"). */
  name: string;
  store: QueueStore<T>;
  /** Entries sealed with this key are this instance's to deliver. */
  keyId: string;
  log: Pick<Logger, "warn" | "info" | "debug">;
  /** How often to look for due entries. */
  pollIntervalMs: number;
  /** Attempts before an entry is given up. */
  maxAttempts: number;
  /** Wait before the first retry; doubles per attempt up to an hour. */
  retryDelayMs: number;
  /** How long a worker holds an entry: well above an attempt's own timeouts. */
  leaseMs: number;
  /** Fields stored with an entry given up (a sealed body dropped). */
  givenUp?: Partial<T>;
  /** Entries attempted at once (default 1, one after the other). */
  concurrency?: number;
  /** Make one attempt. A rejection counts as a failed attempt. */
  attempt(entry: T, attempts: number): Promise<AttemptOutcome<T>>;
  /** Told after an attempt's outcome is stored. */
  settled?(result: Settled<T>): Promise<void> | void;
}

/**
 * A worker of a durable queue (queue-store.ts): it looks for due entries
 * every poll interval (and when asked), leases each (one worker of any
 * server process wins it), makes an attempt, and settles the entry as
 * sent, as pending with the next attempt after a backoff, or as failed
 * after the last attempt. An instance that dies holding an entry leaves it
 * to another once the lease passes: delivery is at least once.
 */
export interface QueueWorker<T> {
  /** Deliver what is due, now (also runs on a timer). */
  deliverDue(): Promise<void>;
  /** Lease and attempt one entry now, whatever its next attempt time; the entry after it, or null. */
  deliverNow(id: string): Promise<T | null>;
  start(): void;
  stop(): Promise<void>;
}

/** Wait before attempt n+1: `base`, doubling, at most an hour. */
export function retryDelayMs(base: number, attempts: number): number {
  return Math.min(3_600_000, base * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

export function createQueueWorker<T extends QueuedDocument>(options: QueueWorkerOptions<T>): QueueWorker<T> {
  const { store, log } = options;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  async function attemptLeased(entry: T): Promise<void> {
    const attempts = entry.attempts + 1;
    let outcome: AttemptOutcome<T>;
    try {
      outcome = await options.attempt(entry, attempts);
    } catch (err) {
      outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (outcome.postpone) {
      await store.settle(entry._id, {
        ...outcome.set,
        lease_until: null,
        next_attempt_at: outcome.postpone,
      } as Partial<T>);
      return;
    }
    const status = outcome.ok ? "sent" : outcome.final || attempts >= options.maxAttempts ? "failed" : "pending";
    await store.settle(entry._id, {
      ...outcome.set,
      status,
      attempts,
      lease_until: null,
      last_error: outcome.ok ? "" : (outcome.error ?? "failed").slice(0, 500),
      ...(status === "pending"
        ? { next_attempt_at: new Date(Date.now() + retryDelayMs(options.retryDelayMs, attempts)) }
        : {}),
      ...(status === "failed" ? options.givenUp : {}),
    } as Partial<T>);
    await options.settled?.({ entry, status, attempts, outcome });
  }

  async function deliverOne(id: string, now = new Date()): Promise<boolean> {
    const entry = await store.lease(id, now, new Date(now.getTime() + options.leaseMs));
    if (!entry) return false;
    await attemptLeased(entry);
    return true;
  }

  const worker: QueueWorker<T> = {
    deliverDue() {
      if (running) {
        // A round is under way; make sure another follows it, for entries
        // queued after it looked.
        again = true;
        return running;
      }
      running = inBackground(async () => {
        try {
          do {
            again = false;
            for (;;) {
              const batch = concurrency * 10;
              const due = await store.due(options.keyId, new Date(), batch);
              if (due.length === 0) break;
              let next = 0;
              const lane = async () => {
                while (next < due.length && !stopped) {
                  const entry = due[next++] as T;
                  await deliverOne(entry._id).catch((err) =>
                    log.warn({ err, entry: entry._id }, `${options.name} attempt failed to settle`),
                  );
                }
              };
              await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
              if (due.length < batch || stopped) break;
            }
          } while (again && !stopped);
        } catch (err) {
          log.warn({ err }, `${options.name} delivery round failed`);
        } finally {
          running = undefined;
        }
      });
      return running;
    },

    async deliverNow(id) {
      // A lease taken "now" wins over the entry's next attempt time.
      return inBackground(async () => {
        await deliverOne(id);
        return store.get(id);
      });
    },

    start() {
      stopped = false;
      timer = setInterval(() => void worker.deliverDue(), options.pollIntervalMs);
      timer.unref();
      void worker.deliverDue();
    },

    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
  return worker;
}
