import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { User } from "../../gen/roster/v1/user_pb.js";
import { builtInNotice, isBuiltIn } from "../builtin-users.js";
import { users } from "../clients.js";
import { h, replaceChildren } from "../dom.js";
import { clearFieldErrors, showAtFields } from "../field-errors.js";
import { flashNext } from "../flash.js";
import { clearMessages, messageArea, showError, showNotice } from "../messages.js";
import { href } from "../routes.js";
import { holds, type Session } from "../session.js";
import { userSubnav } from "../user-subnav.js";
import { ownTokensSection } from "./account-operations.js";
import { attributesEditor } from "./attributes-editor.js";
import { userAdminActions } from "./user-admin-actions.js";
import { readableUserPaths, userDetails } from "./user-details.js";
import { userHistory } from "./user-history.js";
import { userProfileForm } from "./user-profile-form.js";

/**
 * One user: its fields (UserRegistry.Get with a field mask of what the
 * caller may read, see user-details.ts), a form that updates exactly the
 * changed fields against the etag it read (user-profile-form.ts), and, for
 * admins, password reset, setup/unsetup, delete, restore and purge
 * (user-admin-actions.ts).
 */
export function userView(options: { session: Session; userId: string }): HTMLElement {
  const { session, userId } = options;
  const self = userId === session.userId;
  // The server refuses every change to the built-in user: offer none.
  const builtIn = isBuiltIn(userId);
  const adminWrite = holds(session, Right.ADMIN_USERS_WRITE) && !builtIn;
  const readPrivate = self ? holds(session, Right.USER_INFO) : holds(session, Right.ADMIN_USERS_READ);
  const canEdit = (self ? holds(session, Right.USER_SETTINGS) : adminWrite) && !builtIn;
  const paths = readableUserPaths(readPrivate);
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
    clearFieldErrors(profile.element);
    showAtFields(profile.element, report, { EMAIL_TAKEN: "user.primary_email_address" });
  };

  const profile = userProfileForm({
    userId,
    readPrivate,
    adminWrite,
    messages,
    current: () => before,
    load,
    failed,
    reloadButton,
  });
  const adminActions = userAdminActions({
    userId,
    messages,
    content,
    current: () => before,
    load,
    failed,
    purged: () => {
      before = undefined;
    },
    done,
  });

  const show = (user: User) => {
    heading.textContent = user.name || userId;
    document.title = `${user.name || userId} — Roster`;
    profile.fill(user);
    adminActions.show(user);
    attributes.show(user);
    replaceChildren(
      content,
      h(
        "section",
        { "aria-labelledby": "details-heading" },
        h("h2", { id: "details-heading" }, "Details"),
        userDetails(user, { self, builtIn, readPrivate, canEdit }),
      ),
      canEdit ? profile.element : null,
      canEdit && readPrivate ? attributes.element : null,
      self && !builtIn && holds(session, Right.USER_API_KEYS) ? ownTokensSection(userId, done) : null,
      adminWrite && !self ? adminActions.section : null,
    );
  };

  void load();
  return main;
}
