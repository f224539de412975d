import { MongoClient } from "mongodb";

/** Whether the database answered its latest ping; see `watchDatabaseHealth`. */
export interface DatabaseHealth {
  readonly reachable: boolean;
  /** Known to be gone (its process died): unreachable until a ping answers again. */
  lost(): void;
  stop(): Promise<void>;
}

export interface DatabaseHealthOptions {
  /** Time between pings. Default 500 ms, so health turns within about a second. */
  intervalMs?: number;
  /**
   * A ping not answered within this long counts as a failure. Default 1500
   * ms: long enough that a database slowed by load is not taken for a dead
   * one (which would refuse every call just when many are made), short
   * enough that a hung one turns health within 2 s.
   */
  timeoutMs?: number;
  /** Called when `reachable` changes. */
  onChange: (reachable: boolean) => void;
}

/**
 * Ping the database every `intervalMs` on a client of its own (one
 * connection), so that a ping never waits behind the calls in the main pool,
 * and report when it stops or starts answering. Starts as unreachable.
 */
export function watchDatabaseHealth(uri: string, options: DatabaseHealthOptions): DatabaseHealth {
  const intervalMs = options.intervalMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 1500;
  const client = new MongoClient(uri, {
    maxPoolSize: 1,
    appName: "roster-health",
    serverSelectionTimeoutMS: timeoutMs,
    // A connection slow to set up under load is not a failed ping: only
    // the ping's own time limit (its abort signal) decides.
    connectTimeoutMS: 10_000,
    heartbeatFrequencyMS: Math.max(500, intervalMs),
  });
  const admin = client.db("admin");
  let reachable = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  const ping = async () => {
    let answered = false;
    try {
      await admin.command({ ping: 1 }, { signal: AbortSignal.timeout(timeoutMs) });
      answered = true;
    } catch {}
    if (stopped) return;
    if (answered !== reachable) {
      reachable = answered;
      options.onChange(reachable);
    }
    timer = setTimeout(() => {
      current = ping();
    }, intervalMs);
    timer.unref();
  };
  current = ping();

  return {
    get reachable() {
      return reachable;
    },
    lost() {
      if (stopped || !reachable) return;
      reachable = false;
      options.onChange(false);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      await client.close();
    },
  };
}
