import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  ImportConflictPolicy,
  ImportOutcome,
  type ImportSummary,
  ImportSummarySchema,
  type ImportUserResult,
  ImportUserResultSchema,
  type UserRecord,
} from "../../gen/roster/v1/user_bulk_pb.js";
import { importApiKey } from "../access/api-keys.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";
import { isDeactivation } from "../users/deactivation.js";
import { candidateFromRow, type ImportCandidate, updatedUser } from "./import-rows.js";

/** Most rows one Import call takes. */
export const maxImportRows = 1000;

/** Updates of existing users run this many at once. */
const updateConcurrency = 8;

export interface ImportRequest {
  rows: readonly UserRecord[];
  dryRun: boolean;
  onConflict: ImportConflictPolicy;
  firstRowNumber: number;
  /** The importing admin, recorded as `created_by` and `updated_by`. */
  actor: string;
  maxTimeMS: number;
}

async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/**
 * Import one batch of rows and say what happened to each.
 *
 * New users go in with one unordered insert, so that a fresh import costs
 * about what a raw batch insert does; the unique indexes (user id, email)
 * refuse the rows whose user exists, and only those are then looked up, in
 * one query, and skipped, compared or updated through the users store's
 * versioned update. A dry run classifies every row against that same
 * lookup and writes nothing.
 */
export async function importUsers(
  store: Store,
  req: ImportRequest,
): Promise<{
  results: ImportUserResult[];
  summary: ImportSummary;
}> {
  const now = new Date();
  const policy = req.onConflict === ImportConflictPolicy.UNSPECIFIED ? ImportConflictPolicy.SKIP : req.onConflict;
  const rowNumber = (i: number) => req.firstRowNumber + i;
  const results = req.rows.map((row, i) =>
    create(ImportUserResultSchema, { rowNumber: BigInt(rowNumber(i)), userId: row.user?.userId ?? "" }),
  );
  const report = (i: number, outcome: ImportOutcome, reason = "", errorReason = "") => {
    Object.assign(results[i] as ImportUserResult, { outcome, reason, errorReason });
  };

  // Validate, and refuse a second row for a user id or email of this batch.
  const candidates = new Map<number, ImportCandidate>();
  const rowOfId = new Map<string, number>();
  const rowOfEmail = new Map<string, number>();
  for (const [i, row] of req.rows.entries()) {
    const candidate = candidateFromRow(row, req.actor, now);
    if ("problem" in candidate) {
      report(i, ImportOutcome.INVALID, candidate.problem, "INVALID_ARGUMENT");
      continue;
    }
    const { user_id: userId, email_key: emailKey } = candidate.doc;
    const earlier = rowOfId.get(userId) ?? rowOfEmail.get(emailKey);
    if (earlier !== undefined) {
      const what = rowOfId.has(userId) ? `user id ${userId}` : `email address ${emailKey}`;
      report(i, ImportOutcome.FAILED, `${what} is also in row ${rowNumber(earlier)}`, "DUPLICATE_ROW");
      continue;
    }
    rowOfId.set(userId, i);
    rowOfEmail.set(emailKey, i);
    candidates.set(i, candidate);
  }

  let pending = [...candidates.keys()];
  if (!req.dryRun) {
    const inserted = await store.usersBulk.insertMany(pending.map((i) => (candidates.get(i) as ImportCandidate).doc));
    pending = pending.filter((i, k) => {
      if (inserted[k]) report(i, ImportOutcome.CREATED);
      return !inserted[k];
    });
  }

  if (pending.length > 0) {
    const docs = pending.map((i) => (candidates.get(i) as ImportCandidate).doc);
    const holders = await store.usersBulk.findHolders(
      docs.map((d) => d.user_id),
      docs.map((d) => d.email_key),
      req.maxTimeMS,
    );
    const byId = new Map(holders.map((h) => [h._id, h]));
    const byEmail = new Map(holders.map((h) => [h.email_key, h]));
    await pool(pending, updateConcurrency, async (i) => {
      const candidate = candidates.get(i) as ImportCandidate;
      const { user_id: userId, email_key: emailKey } = candidate.doc;
      const existing = byId.get(userId);
      const emailHolder = byEmail.get(emailKey);
      const emailTaken = () =>
        report(
          i,
          ImportOutcome.FAILED,
          `email address ${emailKey} belongs to user ${emailHolder?.user_id}`,
          "EMAIL_TAKEN",
        );
      if (!existing) {
        if (emailHolder) return emailTaken();
        // Only a real run gets here: the holder of the id or email went away since the insert.
        if (!req.dryRun) {
          return report(
            i,
            ImportOutcome.FAILED,
            "the user changed during the import; import the row again",
            "CONCURRENT_UPDATE",
          );
        }
        return report(i, ImportOutcome.CREATED);
      }
      if (existing.deleted_at) {
        return report(
          i,
          ImportOutcome.FAILED,
          `user id ${userId} is reserved by a deleted user until it is purged`,
          "USER_ID_TAKEN",
        );
      }
      const differs = updatedUser(existing, candidate, now) !== undefined;
      if (policy === ImportConflictPolicy.SKIP) {
        const reason = differs ? "the user exists and differs from the row; left as it is" : "the user exists";
        return report(i, ImportOutcome.SKIPPED, reason);
      }
      if (!differs) return report(i, ImportOutcome.UNCHANGED);
      if (policy === ImportConflictPolicy.FAIL) {
        return report(i, ImportOutcome.FAILED, "the user exists and differs from the row", "USER_EXISTS");
      }
      if (emailHolder && emailHolder._id !== existing._id) return emailTaken();
      if (req.dryRun) return report(i, ImportOutcome.UPDATED);
      await update(store, i, candidate, report, { actor: req.actor, maxTimeMS: req.maxTimeMS });
    });
  }

  // Access tokens from other systems, for the rows whose user now stands
  // (created, or already there): idempotent, so a retried import finishes
  // what a crash between the user and its key left undone.
  if (!req.dryRun) {
    const standing = new Set([
      ImportOutcome.CREATED,
      ImportOutcome.SKIPPED,
      ImportOutcome.UNCHANGED,
      ImportOutcome.UPDATED,
    ]);
    await pool(
      [...candidates.keys()].filter(
        (i) => req.rows[i]?.apiKey && standing.has((results[i] as ImportUserResult).outcome),
      ),
      updateConcurrency,
      async (i) => {
        const user = await store.users.getDocument((candidates.get(i) as ImportCandidate).doc.user_id);
        if (user) await importApiKey(store, user, (req.rows[i] as UserRecord).apiKey, req.actor);
      },
    );
  }

  const summary = create(ImportSummarySchema, { rows: BigInt(results.length) });
  const counted: Record<ImportOutcome, keyof ImportSummary | undefined> = {
    [ImportOutcome.UNSPECIFIED]: undefined,
    [ImportOutcome.CREATED]: "created",
    [ImportOutcome.UPDATED]: "updated",
    [ImportOutcome.UNCHANGED]: "unchanged",
    [ImportOutcome.SKIPPED]: "skipped",
    [ImportOutcome.INVALID]: "invalid",
    [ImportOutcome.FAILED]: "failed",
  };
  for (const r of results) {
    const field = counted[r.outcome];
    if (field) (summary as unknown as Record<string, bigint>)[field] += 1n;
  }
  return { results, summary };
}

/**
 * Change an existing user to match its row, through the versioned update
 * (so nothing concurrent is lost and the last-admin guard holds), and
 * revoke tokens as UserRegistry.Update and a password change would.
 */
async function update(
  store: Store,
  i: number,
  candidate: ImportCandidate,
  report: (i: number, outcome: ImportOutcome, reason?: string, errorReason?: string) => void,
  options: { actor: string; maxTimeMS: number },
): Promise<void> {
  let before: UserDocument | undefined;
  let changed = false;
  try {
    const after = await changeUser(
      store,
      candidate.doc.user_id,
      (current) => {
        before = current;
        const next = updatedUser(current, candidate, new Date());
        changed = next !== undefined;
        return next;
      },
      options,
    );
    if (!changed || !before) return report(i, ImportOutcome.UNCHANGED);
    if (isDeactivation(before, after)) {
      await store.tokens.deleteMany({ userRef: after.ref });
    } else if (before.password_hash !== after.password_hash) {
      await store.tokens.deleteMany({ userRef: after.ref, kind: "login" });
    }
    report(i, ImportOutcome.UPDATED);
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    const reason = err.findDetails(ErrorInfoSchema)[0]?.reason ?? "";
    report(i, ImportOutcome.FAILED, err.rawMessage, reason);
  }
}
