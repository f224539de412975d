import { ensureSystemUser } from "./access/system-user.js";
import { recoverEvents } from "./events/event-recovery.js";
import { createPaginator, type Paginator } from "./requests/pagination.js";
import type { Logger } from "./runtime/log.js";
import type { DatabaseHealth } from "./store/database-health.js";
import type { Store } from "./store/store.js";
import { bootstrapAdmin } from "./users/bootstrap-admin.js";
import { recoverOperations } from "./users/operation-recovery.js";

export interface StartUpOptions {
  store: Store;
  databaseHealth: Pick<DatabaseHealth, "reachable">;
  /** Create an `admin` user with a fresh API key if the database has no user (--bootstrap-admin). */
  bootstrapAdmin: boolean;
  log: Logger;
  /** Aborts when the server stops: start-up gives up. */
  signal: AbortSignal;
  /** Takes the paginator whose key is stored in the database. */
  setPaginator: (paginator: Paginator) => void;
  /** Called once every step has succeeded: from here the server serves. */
  onReady: () => void;
}

/**
 * Make the database ready to serve from, retrying with backoff until it
 * answers and every step succeeds: indexes, the page token key, the system
 * user, renames, merges and events a crash interrupted, and on a first
 * start the bootstrap admin. Until then health says NOT_SERVING and RPCs
 * get UNAVAILABLE.
 */
export async function startUp(options: StartUpOptions): Promise<void> {
  const { store, databaseHealth, log } = options;
  for (let attempt = 0; !options.signal.aborted; attempt++) {
    try {
      const answering = Date.now() + 5000;
      while (!databaseHealth.reachable && Date.now() < answering) await new Promise((r) => setTimeout(r, 50));
      if (!databaseHealth.reachable) throw new Error("database does not answer");
      await store.ensureIndexes();
      options.setPaginator(createPaginator(await store.secret("page_tokens")));
      await ensureSystemUser(store);
      // Renames and merges that a crash interrupted are finished before serving.
      await recoverOperations(store, log);
      // Events of changes a crash interrupted, once their lease has passed.
      await recoverEvents(store, log);
      if (options.bootstrapAdmin && !(await store.users.any())) {
        const admin = await bootstrapAdmin(store, { userId: "admin", email: "admin@localhost" });
        // Printed for the operator, once, outside the structured log.
        process.stderr.write(
          `\nCreated admin user "${admin.userId}". Its API key, shown only now:\n\n  ${admin.apiKey}\n\n` +
            `Use it with: export ROSTER_API_KEY=<the key>\n\n`,
        );
      }
      options.onReady();
      return;
    } catch (err) {
      log.warn({ err, attempt }, "database not ready; retrying");
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}
