import { type Child, h, newId, onSubmit } from "./dom.js";
import { checkControls } from "./field-errors.js";
import { messageArea, showFormError } from "./messages.js";

export interface FormDialogOptions {
  title: string;
  /** What happens, in a sentence or two. */
  message: string;
  /** The form's controls (made with `field`). */
  body: Child[];
  /** Label of the button that goes ahead, such as "Rename user". */
  confirmLabel: string;
  /** A destructive action: the button says so. */
  danger?: boolean;
  /** ErrorInfo reasons about one field, as `showFormError` takes them. */
  reasons?: Record<string, string>;
  /**
   * Make the call. A thrown error is shown in the dialog (each field
   * violation next to its control) and the dialog stays open; otherwise it
   * closes.
   */
  submit: () => Promise<void>;
}

/**
 * A modal `<dialog>` with a form (focus is trapped, Escape cancels, focus
 * returns to the button that opened it). Resolves true when the call
 * succeeded, false when cancelled.
 */
export function formDialog(options: FormDialogOptions): Promise<boolean> {
  const titleId = newId("dialog-title");
  const messages = messageArea();
  const cancel = h("button", { type: "button" }, "Cancel");
  const form = h(
    "form",
    { novalidate: true },
    h("h2", { id: titleId }, options.title),
    h("p", {}, options.message),
    messages,
    ...options.body,
    h(
      "div",
      { class: "actions" },
      cancel,
      h("button", { type: "submit", class: options.danger ? "danger" : "primary" }, options.confirmLabel),
    ),
  );
  const dialog = h("dialog", { "aria-labelledby": titleId }, form);
  return new Promise((resolve) => {
    let done = false;
    onSubmit(form, async () => {
      if (!checkControls(form)) return;
      try {
        await options.submit();
        done = true;
        dialog.close();
      } catch (error) {
        showFormError(messages, form, error, options.reasons);
      }
    });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(done);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector<HTMLElement>("input, select, textarea")?.focus();
  });
}
