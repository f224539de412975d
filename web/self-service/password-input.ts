import type { GetSelfServiceOptionsResponse } from "../../gen/roster/v1/self_service_pb.js";
import { h, newId } from "../dom.js";
import { selfService } from "./clients.js";
import { type FormField, formField } from "./form-field.js";

/** Length in Unicode code points, as the server counts it. */
const codePoints = (text: string) => [...text].length;

/**
 * A new-password field that explains the policy and checks the password as
 * it is typed: the length at once, and after a pause the server's own check
 * (common passwords, not the user id or email) through CheckPassword.
 */
export function newPasswordField(
  options: GetSelfServiceOptionsResponse,
  context: () => { userId: string; email: string },
): FormField & { check(): Promise<boolean> } {
  const input = h("input", {
    type: "password",
    name: "new-password",
    autocomplete: "new-password",
    // No minlength/maxlength: the length is explained next to the field as it is typed, not in a browser bubble.
    required: true,
  });
  const status = h("p", { class: "hint password-status", id: newId("status"), "aria-live": "polite" });
  const hint = h(
    "div",
    { class: "hint" },
    h(
      "p",
      { class: "hint" },
      `Use ${options.passwordMinLength} to ${options.passwordMaxLength} characters. A few unrelated words make a good passphrase; no digits or symbols are required. Common passwords, your user ID and your email address are refused.`,
    ),
    status,
  );
  const field = formField("New password", input, hint);
  const show = h("input", { type: "checkbox", id: newId("show") });
  show.addEventListener("change", () => {
    input.type = show.checked ? "text" : "password";
  });
  field.element.append(h("div", { class: "field checkbox" }, show, h("label", { for: show.id }, "Show password")));

  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = 0;
  /** The server's verdict on the current value; true when acceptable. */
  async function check(): Promise<boolean> {
    const value = input.value;
    const length = codePoints(value);
    if (length < options.passwordMinLength) {
      status.textContent = `${length} of at least ${options.passwordMinLength} characters.`;
      return false;
    }
    if (length > options.passwordMaxLength) {
      status.textContent = `${length} characters: at most ${options.passwordMaxLength} are allowed.`;
      return false;
    }
    const ask = ++asked;
    const { userId, email } = context();
    try {
      const { problem } = await selfService.checkPassword({ password: value, userId, email });
      if (ask !== asked) return !problem;
      status.textContent = problem ? `This password ${problem}.` : `${length} characters: this password is fine.`;
      field.setError("");
      return !problem;
    } catch {
      // The check is a help only; the server checks again when the form is sent.
      status.textContent = `${length} characters.`;
      return true;
    }
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const length = codePoints(input.value);
    status.textContent =
      length < options.passwordMinLength
        ? `${length} of at least ${options.passwordMinLength} characters.`
        : `${length} characters; checking…`;
    timer = setTimeout(() => void check(), 300);
  });
  return { ...field, check };
}
