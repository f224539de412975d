import { State, type User } from "../../gen/roster/v1/user_pb.js";
import { access, users } from "../clients.js";
import { confirmAction } from "../confirm-dialog.js";
import { busy, type Child, h, replaceChildren } from "../dom.js";
import { timeElement } from "../format.js";
import { showError, showNotice } from "../messages.js";
import { oneTimeSecret } from "../one-time-secret.js";
import { href } from "../routes.js";
import { mergeUser, renameUser, revokeTokens } from "./account-operations.js";

export interface AdminActionsOptions {
  userId: string;
  messages: HTMLElement;
  /** Where the user's sections are; a deleted or purged user replaces them. */
  content: HTMLElement;
  /** The version last read, whose etag a delete names. */
  current: () => User | undefined;
  /** Read the user again, after a change. */
  load: () => Promise<void>;
  /** Report a failed delete (a conflict offers to reload). */
  failed: (error: unknown) => void;
  /** The user is gone for good. */
  purged: () => void;
  /** After a rename or merge: the page of the user that remains. */
  done: (notice: string, goTo?: string) => void;
}

/**
 * What an admin may do to another user's account: reset the password,
 * set up or deactivate, revoke tokens, rename, merge, delete, and for a
 * deleted user restore or purge. Each asks first where it cannot be undone.
 */
export function userAdminActions(options: AdminActionsOptions): { section: HTMLElement; show(user: User): void } {
  const { userId, messages, content, load } = options;
  const secrets = h("div", { class: "secrets" });
  const actions = h("div", { class: "actions" });
  const section = h(
    "section",
    { "aria-labelledby": "account-heading" },
    h("h2", { id: "account-heading" }, "Account"),
    secrets,
    actions,
  );

  const act = (label: string, run: () => Promise<void>, danger = false) =>
    h("button", { type: "button", class: danger ? "danger" : undefined, onclick: () => busy(actions, run) }, label);

  const resetPassword = async () => {
    const ok = await confirmAction({
      title: `Reset the password of ${userId}?`,
      message:
        "A random temporary password replaces the current one, their login sessions end, " +
        "and they must choose a new password when they next sign in. It is shown here once " +
        "for you to hand over (the CLI's reset-password emails it instead).",
      confirmLabel: "Reset password",
    });
    if (ok === undefined) return;
    try {
      const reset = await access.createTemporaryPassword({ userId, sendEmail: false });
      secrets.replaceChildren(oneTimeSecret(`Temporary password of ${userId}.`, reset.temporaryPassword));
      showNotice(messages, `The password of ${userId} was reset.`);
      // The reset changed the user (and so its etag): read it again.
      await load();
    } catch (error) {
      showError(messages, error);
    }
  };

  const setup = async () => {
    try {
      await users.setup({ userId });
      showNotice(messages, `${userId} is set up (approved).`);
      await load();
    } catch (error) {
      showError(messages, error);
    }
  };

  const unsetup = async () => {
    const reason = await confirmAction({
      title: `Deactivate ${userId}?`,
      message: "The user is suspended and every login token and API key of theirs is revoked. The record stays.",
      confirmLabel: "Deactivate",
      danger: true,
      input: { label: "Reason (shown to the user)", value: "deactivated" },
    });
    if (reason === undefined) return;
    try {
      const result = await users.unsetup({ userId, reason });
      showNotice(messages, `${userId} is deactivated; ${result.tokensRevoked} tokens were revoked.`);
      await load();
    } catch (error) {
      showError(messages, error);
    }
  };

  const remove = async () => {
    const before = options.current();
    if (!before) return;
    const ok = await confirmAction({
      title: `Delete ${userId}?`,
      message:
        "The user can no longer sign in and every token of theirs is revoked. " +
        "The ID stays reserved, and the user can be restored for a while.",
      confirmLabel: "Delete user",
      danger: true,
    });
    if (ok === undefined) return;
    try {
      const deleted = await users.delete({ userId, etag: before.etag });
      showDeleted(
        h("p", {}, `${userId} was deleted. It can be restored until `, timeElement(deleted.restorableUntil), "."),
      );
    } catch (error) {
      options.failed(error);
    }
  };

  const purge = async () => {
    const ok = await confirmAction({
      title: `Purge ${userId}?`,
      message: "The user, their tokens, keys and settings are removed for good, and the ID becomes free.",
      confirmLabel: "Purge user",
      danger: true,
      typeToConfirm: userId,
    });
    if (ok === undefined) return;
    try {
      await users.purge({ userId });
      options.purged();
      showNotice(messages, `${userId} was purged.`);
      replaceChildren(content, h("p", {}, h("a", { href: href({ page: "users" }) }, "Back to the users")));
    } catch (error) {
      showError(messages, error);
    }
  };

  const restore = async () => {
    try {
      await users.restore({ userId });
      showNotice(messages, `${userId} was restored.`);
      await load();
    } catch (error) {
      showError(messages, error);
    }
  };

  const showDeleted = (what: Child) => {
    actions.replaceChildren(act("Restore", restore), act("Purge…", purge, true));
    replaceChildren(
      content,
      h(
        "section",
        { "aria-labelledby": "account-heading" },
        h("h2", { id: "account-heading" }, "Deleted"),
        what,
        actions,
      ),
    );
  };

  const { done } = options;
  return {
    section,
    show(user) {
      actions.replaceChildren(
        act("Reset password…", resetPassword),
        user.state === State.APPROVED ? act("Deactivate…", unsetup, true) : act("Set up", setup),
        act("Revoke tokens…", () => revokeTokens(userId, false, done)),
        act("Rename…", () => renameUser(userId, done)),
        act("Merge…", () => mergeUser(userId, done), true),
        act("Delete…", remove, true),
        act("Purge…", purge, true),
      );
    },
  };
}
