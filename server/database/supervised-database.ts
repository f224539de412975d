import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

/** A database process kept running: restarted, with backoff, whenever it exits unasked. */
export interface SupervisedDatabase {
  /** pid of the current database process. */
  readonly pid: number | undefined;
  /** How many times the process exited unasked. */
  readonly exits: number;
  /** Stop it for good (SIGTERM, then SIGKILL after 10 s) and wait for the exit. */
  stop(): Promise<void>;
}

export interface SupervisedDatabaseOptions {
  binary: string;
  args: readonly string[];
  /** File its stdout and stderr are appended to. */
  logFile: string;
  /** Called with the pid of every process started (the first and each restart). */
  onStart: (pid: number) => void;
  /** Called when the process exits unasked, before the restart. */
  onExit?: () => void;
  log: (msg: string) => void;
  /**
   * Delay before the first restart, doubled after each restart that did not
   * stay up for `stableMs`. Default 250 ms, so that a crash costs little.
   */
  initialBackoffMs?: number;
  /** Longest delay between restarts. Default 10 s. */
  maxBackoffMs?: number;
  /** A process that ran this long resets the backoff. Default 30 s. */
  stableMs?: number;
}

/**
 * Start `binary args` and restart it whenever it exits without `stop()`:
 * with the same arguments (so the same port, and the driver reconnects),
 * after a delay that doubles while it keeps dying young.
 */
export function superviseDatabase(options: SupervisedDatabaseOptions): SupervisedDatabase {
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const stableMs = options.stableMs ?? 30_000;
  let child: ChildProcess | undefined;
  let stopping = false;
  let backoffMs = initialBackoffMs;
  let restartTimer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();
  let exits = 0;

  const start = () => {
    restartTimer = undefined;
    if (stopping) return;
    const logFd = openSync(options.logFile, "a");
    const current = spawn(options.binary, options.args, { stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    child = current;
    const startedAt = Date.now();
    exited = new Promise((resolve) =>
      current.once("exit", (code, signal) => {
        resolve();
        if (stopping) return;
        exits++;
        options.onExit?.();
        if (Date.now() - startedAt >= stableMs) backoffMs = initialBackoffMs;
        options.log(
          `database process ${current.pid} exited (${signal ?? `code ${code}`}); restarting in ${backoffMs} ms`,
        );
        restartTimer = setTimeout(start, backoffMs);
        backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
      }),
    );
    current.once("error", (err) => options.log(`database process failed to start: ${err.message}`));
    if (current.pid) options.onStart(current.pid);
  };
  start();

  return {
    get pid() {
      return child?.pid;
    },
    get exits() {
      return exits;
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      current.kill("SIGTERM");
      const timer = setTimeout(() => current.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
