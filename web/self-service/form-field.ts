import { h, newId } from "../dom.js";

/** A labelled control with an optional hint and a slot for its own error, read out with it. */
export interface FormField {
  element: HTMLElement;
  control: HTMLInputElement;
  /** Show `message` next to the control (and mark it invalid), or clear it with "". */
  setError(message: string): void;
}

export function formField(label: string, control: HTMLInputElement, hint?: string | HTMLElement): FormField {
  control.id ||= newId("field");
  const hintElement =
    typeof hint === "string" ? h("p", { class: "hint", id: newId("hint") }, hint) : (hint ?? undefined);
  if (hintElement) hintElement.id ||= newId("hint");
  const error = h("p", { class: "field-error", id: newId("error"), hidden: true });
  const describedBy = [hintElement?.id, error.id].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", describedBy);
  const element = h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintElement, error);
  return {
    element,
    control,
    setError(message) {
      error.textContent = message;
      error.hidden = !message;
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    },
  };
}
