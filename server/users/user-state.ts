import { Right } from "../../gen/roster/v1/rights_pb.js";
import { errAgreementsNotAccepted, errUserNotFound, errUserNotSetUp } from "../../shared/errors.js";
import { type Caller, holds } from "../access/caller.js";
import { agreementStanding } from "../agreements/user-agreements.js";
import type { EmailQueue } from "../email/email-queue.js";
import { type PublicUrl, pagePaths, pageUrl } from "../self-service/links.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";
import { mailStateChange } from "../user-changes/user-notices.js";

export interface UserStateDeps {
  store: Store;
  mail: EmailQueue;
  /** Base URL for links in emails. */
  urls: PublicUrl;
}

/**
 * Set a user up (Arvados): the user activates themself once every user
 * agreement is accepted; meanwhile REQUESTED, so that they can sign in to
 * accept them. An approved user stays approved. With `sendEmail`, an
 * approved user is welcomed.
 */
export async function setUpUser(
  deps: UserStateDeps,
  caller: Caller,
  req: { userId: string; sendEmail: boolean },
  maxTimeMS?: number,
): Promise<UserDocument> {
  const doc = await deps.store.users.getDocument(req.userId);
  if (!doc) throw errUserNotFound({ user_id: req.userId });
  const { pending } = await agreementStanding(deps.store, doc.ref);
  const after = await changeUser(
    deps.store,
    req.userId,
    (current) =>
      pending.length === 0 || current.state === "APPROVED"
        ? { ...current, state: "APPROVED", state_description: "", updated_at: new Date() }
        : {
            ...current,
            state: "REQUESTED",
            state_description: "set up: accept the user agreements, then activate",
            updated_at: new Date(),
          },
    { actor: caller.userId, maxTimeMS },
  );
  await deps.store.agreements.setUp(after.ref, true);
  if (req.sendEmail && after.state === "APPROVED") {
    await deps.mail.enqueue(after.primary_email_address, {
      kind: "welcome",
      userId: after.user_id,
      loginUrl: pageUrl(deps.urls, pagePaths.signIn),
    });
  }
  return after;
}

/**
 * Approve a user who is set up and has accepted every user agreement; a
 * user admin may activate a user who was never set up. Approved users stay
 * as they are.
 */
export async function activateUser(
  store: Store,
  caller: Caller,
  userId: string,
  maxTimeMS?: number,
): Promise<UserDocument> {
  const doc = await store.users.getDocument(userId);
  if (!doc) throw errUserNotFound({ user_id: userId });
  if (doc.state === "APPROVED") return doc;
  const byAdmin = userId !== caller.userId && holds(caller, Right.ADMIN_USERS_WRITE);
  const { setUp, pending } = await agreementStanding(store, doc.ref);
  if (!setUp && !byAdmin) throw errUserNotSetUp({ user_id: userId });
  if (pending.length > 0) throw errAgreementsNotAccepted({ user_id: userId, agreements: pending.join(", ") });
  if (!setUp) await store.agreements.setUp(doc.ref, true);
  return changeUser(
    store,
    userId,
    (current) => ({ ...current, state: "APPROVED", state_description: "", updated_at: new Date() }),
    { actor: caller.userId, maxTimeMS },
  );
}

/**
 * Deactivate a user (Arvados' unsetup): SUSPENDED with `reason`, no longer
 * set up, and without tokens unless the admin keeps them for a later
 * reactivation (Conch). Others' deactivations are mailed unless asked not to.
 */
export async function deactivateUser(
  deps: Omit<UserStateDeps, "urls">,
  caller: Caller,
  req: { userId: string; reason: string; clearTokens?: boolean; sendEmail?: boolean },
  maxTimeMS?: number,
): Promise<{ doc: UserDocument; tokensRevoked: number }> {
  const after = await changeUser(
    deps.store,
    req.userId,
    (current) => ({
      ...current,
      state: "SUSPENDED",
      state_description: req.reason || "deactivated",
      updated_at: new Date(),
    }),
    { actor: caller.userId, maxTimeMS },
  );
  // Every token goes, also when the user was not approved before.
  const revoked = (req.clearTokens ?? true) ? await deps.store.tokens.deleteMany({ userRef: after.ref }) : 0;
  await deps.store.agreements.setUp(after.ref, false);
  if ((req.sendEmail ?? true) && caller.userId !== after.user_id) await mailStateChange(deps.mail, after);
  return { doc: after, tokensRevoked: revoked };
}
