import type { User } from "../../gen/roster/v1/user_pb.js";
import { users } from "../clients.js";
import { h, newId, onSubmit } from "../dom.js";
import { checkControls, clearFieldErrors } from "../field-errors.js";
import { messageArea, showFormError, showNotice } from "../messages.js";

/** Attribute keys, as the server checks them. */
const keyPattern = "[a-zA-Z0-9_\\-]{1,64}";

/**
 * The attributes of a user (a string map) as rows of key and value, saved
 * at once (UserRegistry.Update of `attributes` against the etag read):
 * add a row, change a value, remove a row.
 */
export function attributesEditor(options: {
  userId: string;
  /** Called after a save, to read the user (and its etag) again. */
  saved: () => Promise<void>;
}) {
  const { userId } = options;
  let before: User | undefined;
  const messages = messageArea();
  const rows = h("div", { class: "attribute-rows" });
  const add = h("button", { type: "button" }, "Add attribute");
  const form = h(
    "form",
    { class: "attributes", "aria-labelledby": "attributes-heading", novalidate: true },
    h("h2", { id: "attributes-heading" }, "Attributes"),
    h("p", { class: "hint" }, "Free key/value pairs for other systems (group, quota, …)."),
    messages,
    rows,
    h("div", { class: "actions" }, add, h("button", { type: "submit", class: "primary" }, "Save attributes")),
  );

  const row = (key = "", value = "") => {
    const keyId = newId("attr-key");
    const valueId = newId("attr-value");
    const keyInput = h("input", {
      type: "text",
      id: keyId,
      class: "attribute-key",
      value: key,
      required: true,
      pattern: keyPattern,
      maxlength: 64,
      autocomplete: "off",
      spellcheck: "false",
      "data-field": key ? `user.attributes.${key}` : undefined,
      "data-invalid-message": "Letters, digits, - and _ (1 to 64).",
    });
    const valueInput = h("input", { type: "text", id: valueId, class: "attribute-value", value, maxlength: 1000 });
    const element: HTMLElement = h(
      "div",
      { class: "attribute-row" },
      h("div", { class: "field" }, h("label", { for: keyId }, "Key"), keyInput),
      h("div", { class: "field" }, h("label", { for: valueId }, "Value"), valueInput),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Remove the attribute ${key || "(new)"}`,
          onclick: () => {
            element.remove();
            add.focus();
          },
        },
        "Remove",
      ),
    );
    keyInput.addEventListener("input", () => {
      keyInput.dataset.field = `user.attributes.${keyInput.value}`;
    });
    return element;
  };

  add.addEventListener("click", () => {
    const added = row();
    rows.append(added);
    added.querySelector("input")?.focus();
  });

  onSubmit(form, async () => {
    if (!before || !checkControls(form)) return;
    const attributes: Record<string, string> = {};
    for (const r of rows.querySelectorAll(".attribute-row")) {
      const key = r.querySelector<HTMLInputElement>(".attribute-key")?.value.trim() ?? "";
      attributes[key] = r.querySelector<HTMLInputElement>(".attribute-value")?.value ?? "";
    }
    try {
      await users.update({
        user: { userId, attributes, etag: before.etag },
        updateMask: { paths: ["attributes"] },
      });
      clearFieldErrors(form);
      await options.saved();
      showNotice(messages, "Saved the attributes.");
    } catch (error) {
      showFormError(messages, form, error);
    }
  });

  return {
    element: form,
    /** Fill the rows from the user as read. */
    show(user: User) {
      before = user;
      rows.replaceChildren(...Object.entries(user.attributes).map(([k, v]) => row(k, v)));
    },
  };
}
