import { ClearTokens } from "../../gen/roster/v1/user_access_pb.js";
import { access } from "../clients.js";
import { field, h, onSubmit, select } from "../dom.js";
import { checkControls, markField } from "../field-errors.js";
import { messageArea, showError, showFormError, showNotice } from "../messages.js";
import { forgetSession, type Session, startSession } from "../session.js";

/**
 * Change one's own password (UserAccess.UpdatePassword). A login token is
 * revoked by the change, so the console logs in again with the new
 * password; an API key session goes on as it was.
 */
export function passwordView(options: {
  session: Session;
  /** The user must change the password before anything else (a temporary password). */
  forced: boolean;
  onChanged: (session: Session, notice: string) => void;
}): HTMLElement {
  const { session } = options;
  const messages = messageArea();
  if (options.forced) {
    showNotice(messages, "Your password was reset by an administrator: choose a new one before you go on.");
  }
  const current = h("input", {
    type: "password",
    autocomplete: "current-password",
    required: true,
    "data-field": "old_password",
  });
  const next = h("input", {
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 8,
    "data-field": "new_password",
  });
  const repeat = h("input", { type: "password", autocomplete: "new-password", required: true });
  const clear = select("clear-tokens", [
    [String(ClearTokens.LOGIN_ONLY), "Sign out every login session (API keys keep working)"],
    [String(ClearTokens.NONE), "Keep other login sessions"],
    [String(ClearTokens.ALL), "Sign out every login session and revoke every API key"],
  ]);
  const form = h(
    "form",
    { novalidate: true },
    field(options.forced ? "Temporary password" : "Current password", current),
    field("New password", next, "At least 8 characters; common passwords are refused."),
    field("Repeat the new password", repeat),
    field("Other sessions", clear),
    h("button", { type: "submit", class: "primary" }, "Change password"),
  );
  onSubmit(form, async () => {
    if (!checkControls(form)) return;
    if (next.value !== repeat.value) {
      markField(repeat, "The two new passwords differ.");
      repeat.focus();
      return;
    }
    try {
      await access.updatePassword({
        oldPassword: current.value,
        newPassword: next.value,
        clearTokens: Number(clear.value) as ClearTokens,
      });
    } catch (error) {
      showFormError(messages, form, error, { INCORRECT_PASSWORD: "old_password" });
      return;
    }
    const notice = "Your password was changed.";
    const cleared = Number(clear.value) as ClearTokens;
    const revokedOwnToken =
      cleared === ClearTokens.ALL || (cleared === ClearTokens.LOGIN_ONLY && session.tokenKind === "login");
    if (!revokedOwnToken) {
      options.onChanged(session, notice);
      return;
    }
    try {
      // The change revoked the token this tab uses: log in anew with the new password.
      forgetSession();
      const login = await access.authenticate({ userIdOrEmail: session.userId, password: next.value });
      options.onChanged(await startSession(login.token), notice);
    } catch (error) {
      showError(messages, error);
    }
  });
  return h(
    "main",
    { id: "main" },
    h("h1", { tabindex: "-1" }, "Change password"),
    h("p", {}, `Signed in as ${session.userId}.`),
    messages,
    form,
  );
}
