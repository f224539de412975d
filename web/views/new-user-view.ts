import { Right } from "../../gen/roster/v1/rights_pb.js";
import { State } from "../../gen/roster/v1/user_pb.js";
import { users } from "../clients.js";
import { appendChildren, field, h, onSubmit, select } from "../dom.js";
import { checkControls, clearFieldErrors } from "../field-errors.js";
import { states } from "../format.js";
import { clearMessages, messageArea, showFormError, showNotice } from "../messages.js";
import { oneTimeSecret } from "../one-time-secret.js";
import { href } from "../routes.js";
import { holds, type Session } from "../session.js";
import { notAllowed } from "./not-allowed.js";

/** User ids, as the server checks them. */
const userIdPattern = "[a-z0-9](?:-?[a-z0-9])+";

/** How the new user gets in: the options of UserRegistry.Create. */
const entries = [
  ["email", "Email them a temporary password", "They must change it when they first sign in."],
  ["password", "Set a password now", "Give it to them yourself."],
  ["invitation", "Accept an invitation", "With the token of an invitation sent to them; it sets the email address."],
  ["none", "No password for now", "Reset it later, or give them an API key."],
] as const;

/**
 * Create a user (UserRegistry.Create): the profile, how they get in (a
 * temporary password by email, a password, an invitation's token, or none)
 * and, optionally, an API key with every user right, shown once.
 */
export function newUserView(options: { session: Session }): HTMLElement {
  const main = h(
    "main",
    { id: "main" },
    h("p", { class: "breadcrumb" }, h("a", { href: href({ page: "users" }) }, "Users"), " / New user"),
    h("h1", { tabindex: "-1" }, "New user"),
  );
  if (!holds(options.session, Right.ADMIN_USERS_WRITE)) {
    main.append(notAllowed("Creating users", "RIGHT_ADMIN_USERS_WRITE"));
    return main;
  }
  const messages = messageArea();
  const created = h("div", { class: "secrets" });

  const email = h("input", {
    type: "email",
    name: "email",
    autocomplete: "off",
    "data-field": "user.primary_email_address",
  });
  const userId = h("input", {
    type: "text",
    name: "user-id",
    pattern: userIdPattern,
    maxlength: 36,
    autocomplete: "off",
    spellcheck: "false",
    "data-field": "user.user_id",
    "data-invalid-message": "2 to 36 lower-case letters and digits, with single dashes between them.",
  });
  const name = h("input", { type: "text", name: "name", maxlength: 200, "data-field": "user.name" });
  const description = h("textarea", { name: "description", rows: 2, maxlength: 2000 });
  description.dataset.field = "user.description";
  const state = select(
    "state",
    states.map(([s, label]) => [String(s), label] as const),
    String(State.APPROVED),
  );
  const admin = h("input", { type: "checkbox", name: "admin" });
  const password = h("input", {
    type: "password",
    name: "new-password",
    autocomplete: "new-password",
    required: true,
    "data-field": "password",
  });
  const token = h("input", {
    type: "text",
    name: "invitation-token",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "rst_iv_…",
    "data-field": "invitation_token",
  });
  const apiKey = h("input", { type: "checkbox", name: "create-api-key" });

  const radios = entries.map(([value, label, hint]) => ({
    value,
    radio: h("input", { type: "radio", name: "entry", value, checked: value === "email" }),
    label,
    hint,
  }));
  const passwordField = field("Password", password, "At least 8 characters; common passwords are refused.");
  const tokenField = field("Invitation token", token);
  const entry = h(
    "fieldset",
    { class: "entry" },
    h("legend", {}, "How they sign in"),
    ...radios.map((r) => field(r.label, r.radio, r.hint)),
    passwordField,
    tokenField,
  );
  const chosen = () => radios.find((r) => r.radio.checked)?.value ?? "email";
  const showChosen = () => {
    const how = chosen();
    passwordField.hidden = password.disabled = how !== "password";
    tokenField.hidden = token.disabled = how !== "invitation";
    // An invitation carries the address, state and admin flag.
    email.required = how !== "invitation";
    state.disabled = admin.disabled = how === "invitation";
  };
  for (const r of radios) r.radio.addEventListener("change", showChosen);
  showChosen();

  const form = h(
    "form",
    { class: "new-user profile", "aria-labelledby": "new-user-heading", novalidate: true },
    h("h2", { id: "new-user-heading", class: "visually-hidden" }, "The new user"),
    field("Email address", email, "Required, except with an invitation (it has the address)."),
    field("User ID", userId, "Leave empty to derive it from the email address (john.doe@… gives johndoe)."),
    field("Name", name),
    field("Description", description),
    field("State", state),
    field("Administrator", admin),
    entry,
    field("Also create an API key with every user right (shown once)", apiKey),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Create user"),
      h("a", { href: href({ page: "invitations" }) }, "Send an invitation instead"),
    ),
  );
  onSubmit(form, async () => {
    clearMessages(messages);
    created.replaceChildren();
    if (!checkControls(form)) return;
    const how = chosen();
    try {
      const result = await users.create({
        user: {
          userId: userId.value.trim(),
          primaryEmailAddress: email.value.trim(),
          name: name.value.trim(),
          description: description.value,
          ...(how === "invitation" ? {} : { state: Number(state.value) as State, admin: admin.checked }),
        },
        password: how === "password" ? password.value : "",
        invitationToken: how === "invitation" ? token.value.trim() : "",
        sendEmail: how === "email",
        createApiKey: apiKey.checked,
      });
      const id = result.user?.userId ?? userId.value.trim();
      clearFieldErrors(form);
      form.reset();
      showChosen();
      showNotice(
        messages,
        "Created ",
        h("a", { href: href({ page: "user", userId: id }) }, id),
        how === "email" ? "; a temporary password is on its way by email." : ".",
      );
      if (result.apiKey) created.replaceChildren(oneTimeSecret(`API key of ${id} (named initial).`, result.apiKey));
    } catch (error) {
      showFormError(messages, form, error, {
        USER_ID_TAKEN: "user.user_id",
        EMAIL_TAKEN: "user.primary_email_address",
        INVITATION_TOKEN_UNKNOWN: "invitation_token",
        INVITATION_EXPIRED: "invitation_token",
        INVITATION_REVOKED: "invitation_token",
        INVITATION_USED: "invitation_token",
      });
    }
  });

  appendChildren(main, messages, created, form);
  return main;
}
