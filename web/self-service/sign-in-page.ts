import { h, onSubmit } from "../dom.js";
import { access, pageHref, selfService } from "./clients.js";
import { showCallError } from "./errors.js";
import { formField } from "./form-field.js";
import { nextSteps, page } from "./page.js";

/** Where the console keeps its token (web/session.ts): signing in here hands the console a session. */
const consoleTokenKey = "roster-console-token";

/** Sign in with a password, then continue in the console; links to "forgot password" and registration. */
export async function signInPage(): Promise<HTMLElement> {
  const messages = h("div", { class: "messages", "aria-live": "polite" });
  const identifier = formField(
    "User ID or email address",
    h("input", { type: "text", name: "username", autocomplete: "username", required: true }),
  );
  const password = formField(
    "Password",
    h("input", { type: "password", name: "password", autocomplete: "current-password", required: true }),
  );
  const form = h(
    "form",
    {},
    identifier.element,
    password.element,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
  );
  onSubmit(form, async () => {
    try {
      const login = await access.authenticate({
        userIdOrEmail: identifier.control.value.trim(),
        password: password.control.value,
      });
      password.control.value = "";
      sessionStorage.setItem(consoleTokenKey, login.token);
      location.assign(pageHref("console/"));
    } catch (error) {
      showCallError(messages, error, { user_id_or_email: identifier, password });
    }
  });
  const options = await selfService.getOptions({});
  const steps: [string, string][] = [["forgot-password", "Forgot your password?"]];
  if (options.registrationMode === "open") steps.push(["register", "Create an account"]);
  return page("Sign in", messages, form, nextSteps(...steps));
}
