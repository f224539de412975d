import { field, h, newId } from "./dom.js";

export interface ConfirmOptions {
  title: string;
  message: string;
  /** Label of the button that goes ahead, such as "Delete user". */
  confirmLabel: string;
  /** A destructive action: the button says so, and Cancel has the focus. */
  danger?: boolean;
  /** The operator must type this text (a user id) before going ahead. */
  typeToConfirm?: string;
  /** An optional text the operator may give, such as a reason. */
  input?: { label: string; value?: string };
}

/**
 * Ask before acting, in a modal `<dialog>` (focus is trapped, Escape
 * cancels, focus returns to the button that opened it). Resolves to the
 * entered text ("" without `input`) when confirmed, undefined otherwise.
 */
export function confirmAction(options: ConfirmOptions): Promise<string | undefined> {
  const titleId = newId("dialog-title");
  const confirmButton = h(
    "button",
    { type: "submit", class: options.danger ? "danger" : "primary" },
    options.confirmLabel,
  );
  const cancelButton = h("button", { type: "button" }, "Cancel");
  const text = options.input ? h("input", { type: "text", value: options.input.value ?? "" }) : undefined;
  const typed = options.typeToConfirm
    ? h("input", { type: "text", autocomplete: "off", spellcheck: "false" })
    : undefined;
  const form = h(
    "form",
    {},
    h("h2", { id: titleId }, options.title),
    h("p", {}, options.message),
    text && options.input ? field(options.input.label, text) : null,
    typed ? field(`Type ${options.typeToConfirm} to confirm`, typed) : null,
    h("div", { class: "actions" }, cancelButton, confirmButton),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId }, form);
  if (typed) {
    confirmButton.disabled = true;
    typed.addEventListener("input", () => {
      confirmButton.disabled = typed.value !== options.typeToConfirm;
    });
  }
  return new Promise((resolve) => {
    let result: string | undefined;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (confirmButton.disabled) return;
      result = text?.value.trim() ?? "";
      dialog.close();
    });
    cancelButton.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (typed ?? text ?? (options.danger ? cancelButton : confirmButton)).focus();
  });
}
