import { LinkPurpose, LinkStatus } from "../../gen/roster/v1/self_service_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import { h, onSubmit } from "../dom.js";
import { fragmentToken, selfService, users } from "./clients.js";
import { showCallError } from "./errors.js";
import { formField } from "./form-field.js";
import { linkProblemPage } from "./link-problem-page.js";
import { nextSteps, page } from "./page.js";
import { newPasswordField } from "./password-input.js";

/**
 * Create an account (UserRegistry.Create): with the invitation token of an
 * invitation link (`#invitation=rst_iv_...`), or, when registration is
 * open, with any address, which is then confirmed by a link.
 */
export async function registerPage(): Promise<HTMLElement> {
  const invitation = fragmentToken("invitation");
  const options = await selfService.getOptions({});
  let invitedEmail = "";
  if (invitation) {
    const link = await selfService.describeLink({ token: invitation });
    if (link.purpose !== LinkPurpose.INVITATION || link.status !== LinkStatus.VALID) {
      return linkProblemPage(LinkPurpose.INVITATION, link.status);
    }
    invitedEmail = link.email;
  } else if (options.registrationMode !== "open") {
    return page(
      "Registration needs an invitation",
      h(
        "p",
        {},
        options.registrationMode === "closed"
          ? "Accounts here are created by administrators. Ask one for an account."
          : "Accounts here are created with an invitation. Ask an administrator for one; its email has a link to this page.",
      ),
      nextSteps(["sign-in", "Sign in"]),
    );
  }

  const messages = h("div", { class: "messages", "aria-live": "polite" });
  const userId = formField(
    "User ID",
    h("input", {
      type: "text",
      name: "user-id",
      autocomplete: "username",
      required: true,
      spellcheck: "false",
      autocapitalize: "none",
      pattern: "[a-z0-9](-?[a-z0-9])+",
      maxlength: 36,
    }),
    "2 to 36 lower-case letters and digits, single dashes between them (ada-lovelace). It cannot be changed later.",
  );
  const name = formField("Name", h("input", { type: "text", name: "name", autocomplete: "name" }), "Optional.");
  const email = formField(
    "Email address",
    h("input", {
      type: "email",
      name: "email",
      autocomplete: "email",
      required: true,
      value: invitedEmail,
      readonly: !!invitedEmail,
    }),
    invitedEmail ? "The address the invitation was sent to." : "We send a link there to confirm it.",
  );
  const password = newPasswordField(options, () => ({
    userId: userId.control.value.trim(),
    email: email.control.value.trim(),
  }));
  const form = h(
    "form",
    {},
    userId.element,
    name.element,
    email.element,
    password.element,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create the account")),
  );
  const title = invitation ? "Accept your invitation" : "Create an account";
  const view = page(title, messages, form, nextSteps(["sign-in", "I have an account: sign in"]));
  onSubmit(form, async () => {
    if (!(await password.check())) {
      password.setError("Choose a password that meets the rules above.");
      password.control.focus();
      return;
    }
    try {
      const created = await users.create({
        user: {
          userId: userId.control.value.trim(),
          name: name.control.value.trim(),
          primaryEmailAddress: email.control.value.trim(),
        },
        password: password.control.value,
        invitationToken: invitation,
      });
      password.control.value = "";
      const user = created.user;
      const pending = user?.state === State.REQUESTED;
      view.replaceWith(
        page(
          "Your account is created",
          h(
            "div",
            { class: "notice", role: "status" },
            h("p", {}, `Welcome, ${user?.name || user?.userId}. Your user ID is ${user?.userId}.`),
            user?.primaryEmailAddressValidatedAt
              ? null
              : h("p", {}, `We sent a link to ${user?.primaryEmailAddress}: open it to confirm your address.`),
            pending
              ? h("p", {}, "An administrator approves new accounts; you are told by email when it is done.")
              : null,
          ),
          nextSteps(["sign-in", "Sign in"]),
        ),
      );
      document.querySelector<HTMLElement>("h1")?.focus();
    } catch (error) {
      showCallError(messages, error, {
        "user.user_id": userId,
        "user.name": name,
        "user.primary_email_address": email,
        password,
      });
    }
  });
  return view;
}
