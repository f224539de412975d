import {
  errConcurrentUpdate,
  errLastAdmin,
  errOperationInProgress,
  errSameUser,
  errSystemUser,
  errUserNotFound,
} from "../errors.js";
import { failpoint } from "../failpoints.js";
import type { Store } from "../store/store.js";
import { isActiveAdmin, systemUserId, type UserDocument } from "../store/user-documents.js";

export interface MergeOptions {
  oldUserId: string;
  newUserId: string;
  apiKeys: "MOVE" | "REVOKE";
  redirect: boolean;
  actor: string;
}

export interface MergeResult {
  user: UserDocument;
  apiKeysMoved: number;
  tokensRevoked: number;
  settingsMoved: number;
}

/**
 * Merge one account into another (Arvados `merge`) without transactions.
 * The old user first records what it is about to do (a journal), then each
 * step is idempotent, in an order where a crash between any two leaves a
 * state that a second call finishes: attributes, then settings, then
 * tokens, and last the soft delete that also clears the journal.
 */
export async function mergeUsers(store: Store, o: MergeOptions): Promise<MergeResult> {
  if (o.oldUserId === o.newUserId) throw errSameUser({});
  if (o.oldUserId === systemUserId || o.newUserId === systemUserId) throw errSystemUser({});
  const target = await store.users.getDocument(o.newUserId);
  if (!target) throw errUserNotFound({ user_id: o.newUserId });
  const old = await store.users.getDocument(o.oldUserId, { includeDeleted: true });
  if (!old) throw errUserNotFound({ user_id: o.oldUserId });
  if (old.deleted_at) {
    // Done before: answer as a retry would want to hear it.
    if (old.merged_into === o.newUserId) return { user: target, apiKeysMoved: 0, tokensRevoked: 0, settingsMoved: 0 };
    throw errUserNotFound({ user_id: o.oldUserId });
  }
  if (old.operation && !(old.operation.kind === "merge" && old.operation.into === o.newUserId)) {
    throw errOperationInProgress({ user_id: o.oldUserId, operation: old.operation.kind });
  }
  // Refuse before moving anything; the soft delete below checks it again.
  if (isActiveAdmin(old) && !isActiveAdmin(target)) {
    const admins = await store.users.list({
      filter: { deleted: false, admin: true, states: ["APPROVED"] },
      order: { field: "user_id", descending: false },
      skip: 0,
      limit: 2,
      fields: [],
      count: "none",
    });
    if (admins.users.length < 2) throw errLastAdmin({ user_id: o.oldUserId });
  }

  const operation = { kind: "merge" as const, into: o.newUserId, api_keys: o.apiKeys, redirect: o.redirect };
  await store.users.update(o.oldUserId, (current) => (current.operation ? undefined : { ...current, operation }), {
    actor: o.actor,
  });
  failpoint("merge:journaled");

  // Attributes: the new user's values win; the old ones fill the gaps.
  const merged = await store.users.update(
    o.newUserId,
    (current) => {
      const attributes = { ...old.attributes, ...current.attributes };
      if (Object.keys(attributes).length === Object.keys(current.attributes).length) return undefined;
      return { ...current, attributes, updated_at: new Date() };
    },
    { actor: o.actor },
  );
  failpoint("merge:attributes");

  // Settings: the same rule, then the old user's are emptied.
  const busy = () => errConcurrentUpdate({ user_id: o.oldUserId });
  let settingsMoved = 0;
  const oldSettings = await store.settings.get(old.ref);
  const oldValues = oldSettings?.values ?? {};
  if (Object.keys(oldValues).length > 0) {
    await store.settings.update(
      { userId: target.user_id, ref: target.ref },
      (current) => {
        const missing = Object.keys(oldValues).filter((k) => !(k in current));
        settingsMoved = missing.length;
        if (missing.length === 0) return undefined;
        return { ...Object.fromEntries(missing.map((k) => [k, oldValues[k] as string])), ...current };
      },
      { busy, conflict: busy },
    );
    await store.settings.update({ userId: old.user_id, ref: old.ref }, () => ({}), { busy, conflict: busy });
  }
  failpoint("merge:settings");

  // Keys move (acting as the new user from now on) or are revoked; login tokens always go.
  const apiKeysMoved =
    o.apiKeys === "MOVE"
      ? await store.tokens.reassign(old.ref, "api_key", { userId: target.user_id, userRef: target.ref })
      : 0;
  const revokedKeys = o.apiKeys === "REVOKE" ? await store.tokens.deleteMany({ userRef: old.ref, kind: "api_key" }) : 0;
  const revokedLogins = await store.tokens.deleteMany({ userRef: old.ref, kind: "login" });
  failpoint("merge:tokens");

  const now = new Date();
  await store.users.update(
    o.oldUserId,
    (current) => ({
      ...current,
      deleted_at: now,
      updated_at: now,
      merged_into: o.newUserId,
      merge_redirect: o.redirect,
      operation: null,
    }),
    { actor: o.actor },
  );
  return { user: merged, apiKeysMoved, tokensRevoked: revokedKeys + revokedLogins, settingsMoved };
}
