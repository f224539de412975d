import type { State, User } from "../../gen/roster/v1/user_pb.js";
import { userField } from "../../shared/user-model.js";
import { users } from "../clients.js";
import { field, h, onSubmit, select } from "../dom.js";
import { checkControls } from "../field-errors.js";
import { states } from "../format.js";
import { clearMessages, showNotice } from "../messages.js";
import { changedPaths, type UserDraft } from "../user-changes.js";

export interface ProfileFormOptions {
  userId: string;
  /** The caller reads the private fields: the email address is offered. */
  readPrivate: boolean;
  /** The caller is an admin who may change this user: state and admin are offered. */
  adminWrite: boolean;
  messages: HTMLElement;
  /** The version last read, whose etag an update names. */
  current: () => User | undefined;
  /** Read the user again, after a save. */
  load: () => Promise<void>;
  /** Report a failed update. */
  failed: (error: unknown) => void;
  reloadButton: () => HTMLElement;
}

/**
 * The profile form, made once and refilled from each version read. It
 * updates exactly the changed fields (UserRegistry.Update with an update
 * mask) against the etag it read. Labels and limits come from the field
 * annotations in user.proto.
 */
export function userProfileForm(options: ProfileFormOptions): { element: HTMLFormElement; fill(user: User): void } {
  const { userId, readPrivate, adminWrite, messages } = options;
  const label = (field: string) => userField(field).label;
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
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Save changes"),
      options.reloadButton(),
    ),
  );
  onSubmit(form, async () => {
    clearMessages(messages);
    const before = options.current();
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
      await options.load();
    } catch (error) {
      options.failed(error);
    }
  });

  return {
    element: form,
    fill(user) {
      name.value = user.name;
      description.value = user.description;
      email.value = user.primaryEmailAddress;
      state.value = String(user.state);
      stateDescription.value = user.stateDescription;
      admin.checked = user.admin;
    },
  };
}
