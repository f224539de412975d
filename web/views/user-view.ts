import { Right } from "../../gen/roster/v1/rights_pb.js";
import { State, type User } from "../../gen/roster/v1/user_pb.js";
import { userField } from "../../shared/user-model.js";
import { builtInNotice, isBuiltIn } from "../builtin-users.js";
import { access, users } from "../clients.js";
import { confirmAction } from "../confirm-dialog.js";
import { busy, type Child, field, h, onSubmit, replaceChildren, select } from "../dom.js";
import { checkControls, clearFieldErrors, showAtFields } from "../field-errors.js";
import { flashNext } from "../flash.js";
import { stateLabel, states, timeElement } from "../format.js";
import { clearMessages, messageArea, showError, showNotice } from "../messages.js";
import { oneTimeSecret } from "../one-time-secret.js";
import { href } from "../routes.js";
import { holds, type Session } from "../session.js";
import { changedPaths, type UserDraft } from "../user-changes.js";
import { userSubnav } from "../user-subnav.js";
import { mergeUser, ownTokensSection, renameUser, revokeTokens } from "./account-operations.js";
import { attributesEditor } from "./attributes-editor.js";
import { userHistory } from "./user-history.js";

/** Fields read for the user themself and for admins. */
const privatePaths = [
  "name",
  "description",
  "primary_email_address",
  "primary_email_address_validated_at",
  "attributes",
  "state",
  "state_description",
  "admin",
  "require_password_update",
  "password_updated_at",
  "created_by",
  "updated_by",
  "etag",
];

/** Fields anybody signed in may read of another user. */
const publicPaths = ["name", "description", "etag"];

/**
 * One user: its fields (UserRegistry.Get with a field mask of what the
 * caller may read), a form that updates exactly the changed fields against
 * the etag it read, and, for admins, password reset, setup/unsetup, delete,
 * restore and purge.
 */
export function userView(options: { session: Session; userId: string }): HTMLElement {
  const { session, userId } = options;
  const self = userId === session.userId;
  // The server refuses every change to the built-in user: offer none.
  const builtIn = isBuiltIn(userId);
  const adminWrite = holds(session, Right.ADMIN_USERS_WRITE) && !builtIn;
  const readPrivate = self ? holds(session, Right.USER_INFO) : holds(session, Right.ADMIN_USERS_READ);
  const canEdit = (self ? holds(session, Right.USER_SETTINGS) : adminWrite) && !builtIn;
  const paths = readPrivate ? privatePaths : publicPaths;
  // Who changed this user, when, and what: admins see anybody's, users their own.
  const history = self || holds(session, Right.ADMIN_USERS_READ) ? userHistory(userId) : undefined;

  const heading = h("h1", { tabindex: "-1" }, userId);
  const messages = messageArea();
  const content = h("div", { class: "user" });
  const main = h(
    "main",
    { id: "main" },
    holds(session, Right.ADMIN_USERS_READ)
      ? h("p", { class: "breadcrumb" }, h("a", { href: href({ page: "users" }) }, "Users"), " / ", userId)
      : null,
    heading,
    userSubnav(session, userId, "user"),
    builtIn ? builtInNotice() : null,
    messages,
    content,
    history?.section,
  );
  let before: User | undefined;
  const attributes = attributesEditor({ userId, saved: () => load() });
  /** After a rename or merge, the page of the user that remains. */
  const done = (notice: string, goTo?: string) => {
    if (goTo && goTo !== userId) {
      flashNext(notice);
      location.hash = href({ page: "user", userId: goTo });
      return;
    }
    showNotice(messages, notice);
    void load();
  };

  const load = async () => {
    try {
      const { user } = await users.get({ userId, fieldMask: { paths } });
      if (!user) throw new Error("the server returned no user");
      // A change made here is in the history at once.
      if (before) void history?.reload();
      before = user;
      show(user);
    } catch (error) {
      showError(messages, error);
    }
  };

  const reloadButton = () =>
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          clearMessages(messages);
          void load();
        },
      },
      "Reload",
    );

  /**
   * Show an error, each field violation also next to its field; a conflict
   * (ABORTED) explains itself and offers to reload.
   */
  const failed = (error: unknown) => {
    const report = showError(messages, error, (report) =>
      report.conflict
        ? [
            h(
              "p",
              {},
              "This user was changed meanwhile (by somebody else, or in another tab). " +
                "Reload to see the current version, then make your change again.",
            ),
            reloadButton(),
          ]
        : [],
    );
    clearFieldErrors(form);
    showAtFields(form, report, { EMAIL_TAKEN: "user.primary_email_address" });
  };

  // Labels and limits come from the field annotations in user.proto.
  const label = (field: string) => userField(field).label;
  // The profile form, made once and refilled from each version read.
  const name = h("input", {
    type: "text",
    name: "name",
    maxlength: userField("name").maxLength,
    "data-field": "user.name",
  });
  const description = h("textarea", {
    name: "description",
    rows: 3,
    maxlength: userField("description").maxLength,
  });
  description.dataset.field = "user.description";
  const email = h("input", {
    type: "email",
    name: "email",
    autocomplete: "off",
    maxlength: userField("primary_email_address").maxLength,
    "data-field": "user.primary_email_address",
  });
  const state = select(
    "state",
    states.map(([s, label]) => [String(s), label] as const),
  );
  const stateDescription = h("input", {
    type: "text",
    name: "state-description",
    maxlength: userField("state_description").maxLength,
  });
  const admin = h("input", { type: "checkbox", name: "admin" });
  const form = h(
    "form",
    { class: "profile", "aria-labelledby": "profile-heading", novalidate: true },
    h("h2", { id: "profile-heading" }, "Profile"),
    field(label("name"), name),
    field(label("description"), description),
    readPrivate ? field(label("primary_email_address"), email, "Changing it clears its validation.") : null,
    adminWrite
      ? h(
          "fieldset",
          {},
          h("legend", {}, "Administration"),
          field(label("state"), state),
          field(label("state_description"), stateDescription, "Shown to the user: why the account is in this state."),
          field(label("admin"), admin),
        )
      : null,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save changes"), reloadButton()),
  );
  onSubmit(form, async () => {
    clearMessages(messages);
    if (!before || !checkControls(form)) return;
    const draft: UserDraft = {
      name: name.value,
      description: description.value,
      primaryEmailAddress: readPrivate ? email.value.trim() : before.primaryEmailAddress,
      ...(adminWrite
        ? { state: Number(state.value) as State, stateDescription: stateDescription.value, admin: admin.checked }
        : {}),
    };
    const changed = changedPaths(before, draft);
    if (changed.length === 0) {
      showNotice(messages, "Nothing to save: no field was changed.");
      return;
    }
    try {
      await users.update({
        user: { ...draft, userId, etag: before.etag },
        updateMask: { paths: changed },
      });
      showNotice(messages, `Saved: ${changed.join(", ")}.`);
      await load();
    } catch (error) {
      failed(error);
    }
  });

  const secrets = h("div", { class: "secrets" });
  const actions = h("div", { class: "actions" });
  const actionsSection = h(
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
      failed(error);
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
      before = undefined;
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

  const show = (user: User) => {
    heading.textContent = user.name || userId;
    document.title = `${user.name || userId} — Roster`;
    name.value = user.name;
    description.value = user.description;
    email.value = user.primaryEmailAddress;
    state.value = String(user.state);
    stateDescription.value = user.stateDescription;
    admin.checked = user.admin;
    actions.replaceChildren(
      act("Reset password…", resetPassword),
      user.state === State.APPROVED ? act("Deactivate…", unsetup, true) : act("Set up", setup),
      act("Revoke tokens…", () => revokeTokens(userId, false, done)),
      act("Rename…", () => renameUser(userId, done)),
      act("Merge…", () => mergeUser(userId, done), true),
      act("Delete…", remove, true),
      act("Purge…", purge, true),
    );
    attributes.show(user);
    replaceChildren(
      content,
      h(
        "section",
        { "aria-labelledby": "details-heading" },
        h("h2", { id: "details-heading" }, "Details"),
        details(user),
      ),
      canEdit ? form : null,
      canEdit && readPrivate ? attributes.element : null,
      self && !builtIn && holds(session, Right.USER_API_KEYS) ? ownTokensSection(userId, done) : null,
      adminWrite && !self ? actionsSection : null,
    );
  };

  const details = (user: User) => {
    const rows: [string, Child][] = [
      [label("user_id"), self ? `${user.userId} (you)` : builtIn ? `${user.userId} (built-in)` : user.userId],
    ];
    if (!canEdit) rows.push([label("name"), user.name || "—"], [label("description"), user.description || "—"]);
    if (readPrivate) {
      rows.push(
        [label("primary_email_address"), user.primaryEmailAddress || "—"],
        [label("primary_email_address_validated_at"), timeElement(user.primaryEmailAddressValidatedAt)],
        [
          label("state"),
          user.stateDescription ? `${stateLabel(user.state)}: ${user.stateDescription}` : stateLabel(user.state),
        ],
        [label("admin"), user.admin ? "Yes" : "No"],
        [label("password_updated_at"), timeElement(user.passwordUpdatedAt)],
        [label("require_password_update"), user.requirePasswordUpdate ? "Yes" : "No"],
      );
    }
    rows.push(
      [label("created_at"), created(user.createdAt, user.createdBy)],
      [label("updated_at"), created(user.updatedAt, user.updatedBy)],
    );
    const attributes = Object.entries(user.attributes);
    if (attributes.length > 0)
      rows.push([label("attributes"), h("ul", {}, ...attributes.map(([k, v]) => h("li", {}, `${k}: ${v}`)))]);
    return h("dl", { class: "details" }, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
  };

  const created = (at: User["createdAt"], by: string) => h("span", {}, timeElement(at), by ? ` by ${by}` : "");

  void load();
  return main;
}
