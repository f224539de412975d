import { LinkPurpose, LinkStatus } from "../../gen/roster/v1/self_service_pb.js";
import { ClearTokens } from "../../gen/roster/v1/user_access_pb.js";
import { h, newId, onSubmit } from "../dom.js";
import { fragmentToken, selfService } from "./clients.js";
import { reasonOf, showCallError } from "./errors.js";
import { linkProblemPage } from "./link-problem-page.js";
import { nextSteps, page } from "./page.js";
import { newPasswordField } from "./password-input.js";

const linkReasons: Record<string, LinkStatus> = {
  LINK_EXPIRED: LinkStatus.EXPIRED,
  LINK_USED: LinkStatus.USED,
  LINK_UNKNOWN: LinkStatus.UNKNOWN,
};

/** Choose a new password with the token of a reset link (`#token=rst_pr_...`). */
export async function resetPasswordPage(): Promise<HTMLElement> {
  const token = fragmentToken("token");
  const [link, options] = await Promise.all([selfService.describeLink({ token }), selfService.getOptions({})]);
  if (link.purpose !== LinkPurpose.PASSWORD_RESET || link.status !== LinkStatus.VALID) {
    return linkProblemPage(LinkPurpose.PASSWORD_RESET, link.status);
  }
  const messages = h("div", { class: "messages", "aria-live": "polite" });
  const password = newPasswordField(options, () => ({ userId: "", email: link.email }));
  const choice = (value: ClearTokens, label: string, checked = false) => {
    const id = newId("clear");
    return h(
      "div",
      { class: "field checkbox choice" },
      h("input", { type: "radio", name: "clear-tokens", id, value: String(value), checked }),
      h("label", { for: id }, label),
    );
  };
  const clear = h(
    "fieldset",
    {},
    h("legend", {}, "Signed-in sessions"),
    choice(ClearTokens.LOGIN_ONLY, "Sign out everywhere (recommended); API keys keep working", true),
    choice(ClearTokens.ALL, "Sign out everywhere and revoke every API key"),
    choice(ClearTokens.NONE, "Keep existing sessions"),
  );
  const form = h(
    "form",
    {},
    h("p", {}, `For the account with the address ${link.email}.`),
    password.element,
    clear,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Set the new password")),
  );
  const view = page("Choose a new password", messages, form);
  onSubmit(form, async () => {
    if (!(await password.check())) {
      password.setError("Choose a password that meets the rules above.");
      password.control.focus();
      return;
    }
    const selected = form.querySelector<HTMLInputElement>('input[name="clear-tokens"]:checked');
    try {
      const done = await selfService.resetPassword({
        token,
        newPassword: password.control.value,
        clearTokens: Number(selected?.value ?? ClearTokens.LOGIN_ONLY) as ClearTokens,
      });
      password.control.value = "";
      view.replaceWith(
        page(
          "Your password is set",
          h(
            "div",
            { class: "notice", role: "status" },
            h("p", {}, `The password of ${done.userId} is changed. Sign in with the new one.`),
          ),
          nextSteps(["sign-in", "Sign in"]),
        ),
      );
      document.querySelector<HTMLElement>("h1")?.focus();
    } catch (error) {
      const status = linkReasons[reasonOf(error) ?? ""];
      if (status !== undefined) {
        view.replaceWith(linkProblemPage(LinkPurpose.PASSWORD_RESET, status));
        document.querySelector<HTMLElement>("h1")?.focus();
        return;
      }
      showCallError(messages, error, { new_password: password });
    }
  });
  return view;
}
