import { access } from "../clients.js";
import { field, h, onSubmit } from "../dom.js";
import { messageArea, showError, showNotice } from "../messages.js";
import { type Session, startSession } from "../session.js";

/**
 * Sign in with a user id or email and a password (UserAccess.Authenticate,
 * which returns a login token), or with a pasted API key.
 */
export function signInView(options: { notice?: string; onSignedIn: (session: Session) => void }): HTMLElement {
  const messages = messageArea();
  if (options.notice) showNotice(messages, options.notice);

  const identifier = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const passwordForm = h(
    "form",
    { "aria-labelledby": "sign-in-password" },
    h("h2", { id: "sign-in-password" }, "With a password"),
    field("User ID or email address", identifier),
    field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    h("p", {}, h("a", { href: "../forgot-password" }, "Forgot your password?")),
  );
  onSubmit(passwordForm, async () => {
    try {
      const login = await access.authenticate({ userIdOrEmail: identifier.value.trim(), password: password.value });
      password.value = "";
      options.onSignedIn(await startSession(login.token));
    } catch (error) {
      showError(messages, error);
    }
  });

  const key = h("input", {
    type: "password",
    name: "api-key",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "rst_ak_…",
    required: true,
  });
  const keyForm = h(
    "form",
    { "aria-labelledby": "sign-in-key" },
    h("h2", { id: "sign-in-key" }, "With an API key"),
    field("API key", key, "The key acts with its own rights. Signing out forgets it here; it is not revoked."),
    h("button", { type: "submit" }, "Use API key"),
  );
  onSubmit(keyForm, async () => {
    try {
      const session = await startSession(key.value.trim());
      key.value = "";
      options.onSignedIn(session);
    } catch (error) {
      showError(messages, error);
    }
  });

  return h(
    "main",
    { id: "main", class: "sign-in" },
    h("h1", { tabindex: "-1" }, "Sign in to Roster"),
    messages,
    h("div", { class: "sign-in-forms" }, passwordForm, keyForm),
  );
}
