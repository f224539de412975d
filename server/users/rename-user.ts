import { errSameUser, errSystemUser, errUserBusy, errUserIdTaken, errUserNotFound } from "../../shared/errors.js";
import { failpoint } from "../runtime/failpoints.js";
import type { OperationDocument } from "../store/operations-store.js";
import type { Store } from "../store/store.js";
import { systemUserId, type UserDocument } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";

/** Marks an email key set aside while a renamed user briefly exists twice. */
const renamingSuffix = "#renaming";

/**
 * Change a user's id (Arvados `update_uuid`) without transactions. Users
 * are keyed by id, so the document is copied under the new id and the old
 * one removed. A journal (operations-store.ts) is written first; the steps
 * after it are idempotent, so that this call or any server process (see
 * operation-recovery.ts) can finish the rename after a crash between any two.
 */
export async function renameUser(store: Store, from: string, to: string, actor: string): Promise<UserDocument> {
  if (from === to) throw errSameUser({});
  if (from === systemUserId || to === systemUserId) throw errSystemUser({});
  const old = await store.users.getDocument(from, { includeDeleted: true });
  if (!old) {
    // A retry of a rename that is already done (perhaps by another process).
    const done = await store.operations.findDone("rename", from, to);
    const copy = done && (await store.users.getDocument(to, { includeDeleted: true }));
    if (done && copy?.ref.equals(done.user_ref)) return copy;
    throw errUserNotFound({ user_id: from });
  }
  const [pending] = await store.operations.listOpen(old.ref);
  if (pending) {
    if (pending.kind === "rename" && pending.to === to) return finishRename(store, pending);
    throw errUserBusy({ user_id: from, operation: pending.kind });
  }
  // A rename marked without a journal was begun by an older version: journal it now.
  const legacy = old.operation?.kind === "rename" && old.operation.to === to;
  if (old.operation && !legacy) throw errUserBusy({ user_id: from, operation: old.operation.kind });
  const copy = await store.users.getDocument(to, { includeDeleted: true });
  if (copy && !(legacy && copy.ref.equals(old.ref))) throw errUserIdTaken({ user_id: to });
  const journal = await store.operations.open({
    kind: "rename",
    user_ref: old.ref,
    from,
    to,
    api_keys: null,
    redirect: false,
    actor,
  });
  return finishRename(store, journal);
}

/**
 * The steps of a journaled rename, each idempotent:
 *
 * 1. mark the old document (`operation: rename`; from now on other writes
 *    to it are refused) and set its email key aside so that the copy can
 *    hold the unique email;
 * 2. insert the copy under the new id (`operation: renamed_from`);
 * 3. point the `user_id` hints of the user's credentials and the audit
 *    fields at the new id (credentials and settings are bound to the
 *    user's `ref`, which does not change, so they work throughout);
 * 4. remove the old document;
 * 5. clear the mark on the copy and close the journal.
 *
 * If the new id was taken before the copy exists, step 1 is undone and the
 * journal abandoned.
 */
export async function finishRename(store: Store, journal: OperationDocument): Promise<UserDocument> {
  const { from, to, actor, user_ref: ref } = journal;
  const ours = (doc: UserDocument | null) => (doc?.ref.equals(ref) ? doc : null);
  const abandon = async (err: Error): Promise<never> => {
    await store.operations.close(journal._id, "abandoned");
    throw err;
  };
  let old = ours(await store.users.getDocument(from, { includeDeleted: true }));
  const copy = await store.users.getDocument(to, { includeDeleted: true });
  if (copy && !ours(copy)) {
    if (old?.operation?.kind === "rename") await unmark(store, from, actor);
    return abandon(errUserIdTaken({ user_id: to }));
  }
  if (old && !copy) {
    if (old.operation && !(old.operation.kind === "rename" && old.operation.to === to)) {
      return abandon(errUserBusy({ user_id: from, operation: old.operation.kind }));
    }
    const emailKey = old.email_key.replace(renamingSuffix, "");
    old = await changeUser(
      store,
      from,
      (current) =>
        current.operation
          ? undefined
          : { ...current, operation: { kind: "rename", to }, email_key: `${emailKey}${renamingSuffix}` },
      { actor, includeDeleted: true, operation: true },
    );
    if (!(old.operation?.kind === "rename" && old.operation.to === to)) {
      return abandon(errUserBusy({ user_id: from, operation: old.operation?.kind ?? "another change" }));
    }
    failpoint("rename:journaled");
    const { operation: _, ...rest } = old;
    try {
      await store.users.insertRenamed({
        ...rest,
        _id: to,
        user_id: to,
        email_key: emailKey,
        operation: { kind: "renamed_from", from },
        updated_by: actor,
        updated_at: new Date(),
        // Revisions go on from the old document's, so that write locks taken for it never block the copy.
        revision: old.revision + 1,
      });
    } catch (err) {
      if (!errUserIdTaken.is(err)) throw err;
      await unmark(store, from, actor);
      return abandon(err as Error);
    }
    failpoint("rename:copied");
  } else if (!copy) {
    return abandon(errUserNotFound({ user_id: from }));
  }

  await store.tokens.renameUser(ref, from, to);
  await store.tokenRequests.renameUser(ref, from, to);
  await store.invitations.renameUser(from, to);
  await store.users.renameAuditReferences(from, to);
  failpoint("rename:references");

  await store.users.removeRenamed(from, ref);
  failpoint("rename:old-removed");

  const renamed = await changeUser(
    store,
    to,
    (current) => (current.operation?.kind === "renamed_from" ? { ...current, operation: null } : undefined),
    { actor, includeDeleted: true, operation: true },
  );
  await store.operations.close(journal._id, "done");
  return renamed;
}

/** Undo step 1: the old document is the user again. */
async function unmark(store: Store, from: string, actor: string): Promise<void> {
  await changeUser(
    store,
    from,
    (current) =>
      current.operation?.kind === "rename"
        ? { ...current, operation: null, email_key: current.email_key.replace(renamingSuffix, "") }
        : undefined,
    { actor, includeDeleted: true, operation: true },
  );
}
