import { errOperationInProgress, errSameUser, errSystemUser, errUserIdTaken, errUserNotFound } from "../errors.js";
import { failpoint } from "../failpoints.js";
import type { Store } from "../store/store.js";
import { systemUserId, type UserDocument } from "../store/user-documents.js";

/** Marks an email key set aside while a renamed user briefly exists twice. */
const renamingSuffix = "#renaming";

/**
 * Change a user's id (Arvados `update_uuid`) without transactions. Users
 * are keyed by id, so the document is copied under the new id and the old
 * one removed. The steps, each idempotent, in an order a second call can
 * finish after a crash between any two:
 *
 * 1. journal on the old document (`operation: rename`), and set its email
 *    key aside so that the copy can hold the unique email;
 * 2. insert the copy under the new id (journal: `renamed_from`);
 * 3. point every reference by id at the new id (tokens, token requests,
 *    invitations, audit fields; settings reference the incarnation and need
 *    nothing);
 * 4. remove the old document;
 * 5. clear the journal on the copy.
 */
export async function renameUser(store: Store, from: string, to: string, actor: string): Promise<UserDocument> {
  if (from === to) throw errSameUser({});
  if (from === systemUserId || to === systemUserId) throw errSystemUser({});
  let old = await store.users.getDocument(from, { includeDeleted: true });
  let copy = await store.users.getDocument(to, { includeDeleted: true });

  if (old) {
    if (old.operation && !(old.operation.kind === "rename" && old.operation.to === to)) {
      throw errOperationInProgress({ user_id: from, operation: old.operation.kind });
    }
    if (copy && !copy.ref.equals(old.ref)) throw errUserIdTaken({ user_id: to });
    const emailKey = old.email_key.replace(renamingSuffix, "");
    old = await store.users.update(
      from,
      (current) =>
        current.operation
          ? undefined
          : { ...current, operation: { kind: "rename", to }, email_key: `${emailKey}${renamingSuffix}` },
      { actor, includeDeleted: true },
    );
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
        // Revisions go on from the old document's, so that claims made for it never block the copy.
        revision: old.revision + 1,
      });
    } catch (err) {
      if (errUserIdTaken.is(err)) {
        // Somebody took the id meanwhile: undo step 1.
        await store.users.update(from, (current) => ({ ...current, operation: null, email_key: emailKey }), {
          actor,
          includeDeleted: true,
        });
      }
      throw err;
    }
    failpoint("rename:copied");
  } else if (!(copy?.operation?.kind === "renamed_from" && copy.operation.from === from)) {
    throw errUserNotFound({ user_id: from });
  }

  await store.tokens.renameUser(from, to);
  await store.tokenRequests.renameUser(from, to);
  await store.invitations.renameUser(from, to);
  await store.users.renameAuditReferences(from, to);
  failpoint("rename:references");

  copy = await store.users.getDocument(to, { includeDeleted: true });
  if (!copy) throw errUserNotFound({ user_id: to });
  await store.users.removeRenamed(from, copy.ref);
  failpoint("rename:old-removed");

  return store.users.update(
    to,
    (current) => (current.operation?.kind === "renamed_from" ? { ...current, operation: null } : undefined),
    { actor, includeDeleted: true },
  );
}
