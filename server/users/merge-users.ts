import { Right } from "../../gen/roster/v1/rights_pb.js";
import {
  errConcurrentUpdate,
  errNewUserTokenInvalid,
  errSameUser,
  errSystemUser,
  errUnauthenticated,
  errUserBusy,
  errUserNotFound,
} from "../../shared/errors.js";
import { authenticate } from "../access/authenticate.js";
import { type Caller, holds } from "../access/caller.js";
import { expandRights } from "../rights/rights.js";
import { failpoint } from "../runtime/failpoints.js";
import type { OperationDocument } from "../store/operations-store.js";
import type { Store } from "../store/store.js";
import { systemUserId, type UserDocument } from "../store/user-documents.js";
import { changeUser, isActiveAdmin, requireAnotherAdmin } from "../user-changes/user-changes.js";

/**
 * User admins may merge any two users. Others (Arvados) give `newUserToken`,
 * a valid token of the new account holding every user right, so that the
 * old user proves it controls both accounts; a token an admin gives is
 * checked too.
 */
export async function requireMergeRight(
  store: Store,
  caller: Caller,
  newUserId: string,
  newUserToken: string,
): Promise<void> {
  if (!newUserToken && holds(caller, Right.ADMIN_USERS_WRITE)) return;
  const owner = newUserToken
    ? await authenticate(store, `Bearer ${newUserToken}`).catch((err) => {
        if (errUnauthenticated.is(err)) return undefined;
        throw err;
      })
    : undefined;
  const full = !!owner && [...expandRights([Right.USER_ALL])].every((r) => owner.rights.has(r));
  if (!owner || owner.userId !== newUserId || !full) throw errNewUserTokenInvalid({ user_id: newUserId });
}

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
 * A journal (operations-store.ts) is written first, then the old user is
 * marked (other writes to it are refused from then on); each later step is
 * idempotent, so that this call or any server process (see
 * operation-recovery.ts) can finish a merge that a crash interrupted.
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
  const [pending] = await store.operations.listOpen(old.ref);
  if (pending) {
    if (pending.kind === "merge" && pending.to === o.newUserId) return finishMerge(store, pending);
    throw errUserBusy({ user_id: o.oldUserId, operation: pending.kind });
  }
  // A merge marked without a journal was begun by an older version: journal it now.
  const legacy = old.operation?.kind === "merge" && old.operation.into === o.newUserId;
  if (old.operation && !legacy) throw errUserBusy({ user_id: o.oldUserId, operation: old.operation.kind });
  if (target.operation) throw errUserBusy({ user_id: o.newUserId, operation: target.operation.kind });
  // Refuse before moving anything; the soft delete below checks it again.
  if (!isActiveAdmin(target)) await requireAnotherAdmin(store, old);
  const journal = await store.operations.open({
    kind: "merge",
    user_ref: old.ref,
    from: o.oldUserId,
    to: o.newUserId,
    api_keys: o.apiKeys,
    redirect: o.redirect,
    actor: o.actor,
  });
  return finishMerge(store, journal);
}

/**
 * The steps of a journaled merge, each idempotent: mark the old user, then
 * attributes, settings, tokens, and last the soft delete that also clears
 * the mark; then the journal is closed.
 */
export async function finishMerge(store: Store, journal: OperationDocument): Promise<MergeResult> {
  const o = {
    oldUserId: journal.from,
    newUserId: journal.to,
    apiKeys: journal.api_keys ?? "MOVE",
    redirect: journal.redirect,
    actor: journal.actor,
  };
  const abandon = async (err: Error): Promise<never> => {
    await store.operations.close(journal._id, "abandoned");
    throw err;
  };
  const found = await store.users.getDocument(o.oldUserId, { includeDeleted: true });
  const target = await store.users.getDocument(o.newUserId);
  if (!found?.ref.equals(journal.user_ref) || !target) {
    return abandon(errUserNotFound({ user_id: found && target ? o.oldUserId : o.newUserId }));
  }
  if (found.deleted_at) {
    if (found.merged_into !== o.newUserId) return abandon(errUserNotFound({ user_id: o.oldUserId }));
    await store.operations.close(journal._id, "done");
    return { user: target, apiKeysMoved: 0, tokensRevoked: 0, settingsMoved: 0 };
  }
  const operation = { kind: "merge" as const, into: o.newUserId, api_keys: o.apiKeys, redirect: o.redirect };
  const old = await changeUser(
    store,
    o.oldUserId,
    (current) => (current.operation ? undefined : { ...current, operation }),
    { actor: o.actor, operation: true },
  );
  if (!(old.operation?.kind === "merge" && old.operation.into === o.newUserId)) {
    return abandon(errUserBusy({ user_id: o.oldUserId, operation: old.operation?.kind ?? "another change" }));
  }
  failpoint("merge:journaled");

  // Attributes: the new user's values win; the old ones fill the gaps.
  const merged = await changeUser(
    store,
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
  await changeUser(
    store,
    o.oldUserId,
    (current) => ({
      ...current,
      deleted_at: now,
      updated_at: now,
      merged_into: o.newUserId,
      merge_redirect: o.redirect,
      operation: null,
    }),
    { actor: o.actor, operation: true },
  );
  await store.operations.close(journal._id, "done");
  return { user: merged, apiKeysMoved, tokensRevoked: revokedKeys + revokedLogins, settingsMoved };
}
