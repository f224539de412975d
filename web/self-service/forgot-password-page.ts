import { h, onSubmit } from "../dom.js";
import { selfService } from "./clients.js";
import { showCallError } from "./errors.js";
import { formField } from "./form-field.js";
import { nextSteps, page } from "./page.js";

/** Ask for a password reset link. The answer is the same whether or not the address has an account. */
export function forgotPasswordPage(): HTMLElement {
  const messages = h("div", { class: "messages", "aria-live": "polite" });
  const email = formField(
    "Email address",
    h("input", { type: "email", name: "email", autocomplete: "email", required: true }),
    "The primary email address of your account. We send a link there to choose a new password.",
  );
  const form = h(
    "form",
    {},
    email.element,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Send the link")),
  );
  const view = page("Forgot your password?", messages, form, nextSteps(["sign-in", "Back to sign in"]));
  onSubmit(form, async () => {
    try {
      const address = email.control.value.trim();
      await selfService.requestPasswordReset({ email: address });
      form.replaceWith(
        h(
          "div",
          { class: "notice", role: "status" },
          h("p", {}, `If an account has the address ${address}, a link to choose a new password is on its way there.`),
          h(
            "p",
            {},
            "The link works once and for a limited time. Nothing arrived? Check the spam folder, or ask again later.",
          ),
        ),
      );
      messages.replaceChildren();
    } catch (error) {
      showCallError(messages, error, { email });
    }
  });
  return view;
}
