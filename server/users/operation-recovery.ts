import type { Logger } from "pino";
import type { OperationDocument } from "../store/operations-store.js";
import type { Store } from "../store/store.js";
import { finishMerge } from "./merge-users.js";
import { finishRename } from "./rename-user.js";

/**
 * How long a Rename or Merge may stay open before other processes take it
 * for abandoned (its process crashed) and finish it. Far above the few
 * database round trips a live one takes.
 */
export const operationLeaseMs = 30_000;

/** Finish one journaled operation from wherever it stopped. */
export async function finishOperation(store: Store, journal: OperationDocument): Promise<void> {
  if (journal.kind === "rename") await finishRename(store, journal);
  else await finishMerge(store, journal);
}

/**
 * Finish every open operation (at start-up: `olderThanMs` 0) or those open
 * longer than the lease (periodically, and when a call meets a user in the
 * middle of one). One that cannot be finished is logged and left for the
 * next pass; a journal that can no longer apply is closed as abandoned by
 * its finishing step.
 */
export async function recoverOperations(
  store: Store,
  log: Pick<Logger, "info" | "warn">,
  options: { olderThanMs: number; userRef?: OperationDocument["user_ref"] } = { olderThanMs: 0 },
): Promise<number> {
  const cutoff = Date.now() - options.olderThanMs;
  let finished = 0;
  for (const journal of await store.operations.listOpen(options.userRef)) {
    if (journal.started_at.getTime() > cutoff) continue;
    try {
      await finishOperation(store, journal);
      finished++;
      log.info({ operation: journal.kind, from: journal.from, to: journal.to }, "finished an interrupted operation");
    } catch (err) {
      log.warn({ err, operation: journal.kind, from: journal.from, to: journal.to }, "could not finish operation");
    }
  }
  return finished;
}

/**
 * Before a Rename or Merge of these users: finish the operations they are
 * in the middle of if those outlived the lease (their process is gone).
 */
export async function finishStaleOperations(
  store: Store,
  log: Pick<Logger, "info" | "warn">,
  userIds: readonly string[],
): Promise<void> {
  for (const userId of userIds) {
    const user = await store.users.getDocument(userId, { includeDeleted: true });
    if (user?.operation) await recoverOperations(store, log, { olderThanMs: operationLeaseMs, userRef: user.ref });
  }
}
