import { errRestoreWindowPassed, errUserMerged, errUserNotDeleted } from "../../shared/errors.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import { changeUser, removeUser } from "../user-changes/user-changes.js";
import { revokeIfDeactivated } from "./deactivation.js";

/**
 * Soft-delete a user (guarded by `etag` when given): its id stays reserved
 * and its tokens are revoked. Returns the time of deletion.
 */
export async function deleteUser(
  store: Store,
  actor: string,
  req: { userId: string; etag: string },
  maxTimeMS?: number,
): Promise<Date> {
  const now = new Date();
  let before: UserDocument | undefined;
  const after = await changeUser(
    store,
    req.userId,
    (current) => {
      before = current;
      return { ...current, deleted_at: now, updated_at: now };
    },
    { etag: req.etag || undefined, maxTimeMS, actor },
  );
  if (before) await revokeIfDeactivated(store, before, after);
  return now;
}

/**
 * Undo a soft delete within `restoreWindowMs` of it. A merged user cannot
 * come back: its data now belongs to the other user, and its login
 * redirects there.
 */
export function restoreUser(
  store: Store,
  actor: string,
  req: { userId: string; restoreWindowMs: number },
  maxTimeMS?: number,
): Promise<UserDocument> {
  const { userId } = req;
  return changeUser(
    store,
    userId,
    (current) => {
      if (!current.deleted_at) throw errUserNotDeleted({ user_id: userId });
      if (current.merged_into) throw errUserMerged({ user_id: userId, merged_into: current.merged_into });
      if (Date.now() - current.deleted_at.getTime() > req.restoreWindowMs) {
        throw errRestoreWindowPassed({ user_id: userId, deleted_at: current.deleted_at.toISOString() });
      }
      return { ...current, deleted_at: null, updated_at: new Date() };
    },
    { includeDeleted: true, maxTimeMS, actor },
  );
}

/** Remove a user for good, with everything bound to it: tokens, token requests, settings, agreements. */
export async function purgeUser(store: Store, userId: string): Promise<void> {
  const removed = await removeUser(store, userId);
  await store.tokens.deleteMany({ userRef: removed.ref });
  await store.tokenRequests.deleteForUser(removed.ref);
  await store.settings.purge(removed.ref);
  await store.agreements.purge(removed.ref);
}
