import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { User } from "../../gen/roster/v1/user_pb.js";
import { type Caller, holds } from "../access/caller.js";
import type { EmailQueue } from "../email/email-queue.js";
import { resolveUpdateMask } from "../requests/fieldmask.js";
import { type LinkOptions, sendLink } from "../self-service/links.js";
import type { Store } from "../store/store.js";
import { documentValue, type UserDocument, type UserField } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";
import { mailStateChange } from "../user-changes/user-notices.js";
import { requireUserId, validateUserFields } from "../validation/user-validation.js";
import { revokeIfDeactivated } from "./deactivation.js";
import { userFieldRules } from "./user-fields.js";

export interface UserUpdateDeps {
  store: Store;
  mail: EmailQueue;
  /** Where email validation links for a changed address come from. */
  links: LinkOptions;
}

/** What Update asks for (UpdateUserRequest). */
export interface UserUpdate {
  user: User;
  /** The update mask's paths; admin-only ones need RIGHT_ADMIN_USERS_WRITE. */
  paths: readonly string[];
  /** Unless false, the user is told of the change. */
  sendEmail?: boolean;
}

/**
 * Change the fields `update.paths` name to the values in `update.user`
 * (guarded by its etag when given). A changed address is unvalidated until
 * a link sent to it is opened; a deactivated user loses every token.
 * Returns the updated user and the fields that were asked for.
 */
export async function updateUser(
  deps: UserUpdateDeps,
  caller: Caller,
  update: UserUpdate,
  maxTimeMS?: number,
): Promise<{ doc: UserDocument; paths: UserField[] }> {
  const { user } = update;
  requireUserId(user.userId, "user.user_id");
  const paths = resolveUpdateMask(userFieldRules, update.paths, holds(caller, Right.ADMIN_USERS_WRITE));
  validateUserFields(user, paths);
  let before: UserDocument | undefined;
  const after = await changeUser(
    deps.store,
    user.userId,
    (current) => {
      before = current;
      if (paths.length === 0) return undefined;
      const next: UserDocument = { ...current, updated_at: new Date() };
      for (const path of paths) (next as unknown as Record<string, unknown>)[path] = documentValue(user, path);
      if (paths.includes("primary_email_address")) {
        next.email_key = next.primary_email_address.toLowerCase();
        if (next.email_key !== current.email_key && !paths.includes("primary_email_address_validated_at")) {
          next.primary_email_address_validated_at = null;
        }
      }
      return next;
    },
    { etag: user.etag || undefined, maxTimeMS, actor: caller.userId },
  );
  if (before) {
    await revokeIfDeactivated(deps.store, before, after);
    await announceUpdate(deps, caller, { before, after, paths, sendEmail: update.sendEmail !== false });
  }
  return { doc: after, paths };
}

/** The mails an update causes: the new state, the check of a new address, others' changes to the user's fields. */
async function announceUpdate(
  deps: UserUpdateDeps,
  caller: Caller,
  change: { before: UserDocument; after: UserDocument; paths: readonly UserField[]; sendEmail: boolean },
): Promise<void> {
  const { before, after, sendEmail } = change;
  if (!sendEmail) return;
  if (before.state !== after.state) await mailStateChange(deps.mail, after);
  if (
    after.email_key !== before.email_key &&
    after.primary_email_address &&
    !after.primary_email_address_validated_at
  ) {
    await sendLink(deps.links, "email_validation", after);
  }
  // Somebody else's change to other fields is mailed too (Conch mails
  // users about admins' updates); one's own is not.
  const changed = change.paths.filter(
    (p) =>
      p !== "state" &&
      p !== "state_description" &&
      JSON.stringify(before[p as keyof UserDocument]) !== JSON.stringify(after[p as keyof UserDocument]),
  );
  if (changed.length > 0 && caller.userId !== after.user_id) {
    // To the address the user had: a changed address is told at the old one.
    await deps.mail.enqueue(before.primary_email_address, {
      kind: "account_updated",
      userId: after.user_id,
      fields: changed,
      by: caller.userId,
    });
  }
}
