import { h, newId } from "./dom.js";
import type { ErrorReport } from "./error-report.js";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/**
 * Show `message` under `control` (inside its `.field` wrapper, or right
 * after it), mark it `aria-invalid` and read the message out with it.
 */
export function markField(control: Control | HTMLFieldSetElement, message: string): void {
  const place = control.closest(".field") ?? control;
  let error = place.querySelector<HTMLElement>(":scope > .field-error");
  if (!error) {
    error = h("p", { class: "field-error", id: newId("error") });
    if (place === control) control.after(error);
    else place.append(error);
  }
  error.textContent = message;
  control.setAttribute("aria-invalid", "true");
  const described = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  if (!described.includes(error.id)) control.setAttribute("aria-describedby", [...described, error.id].join(" "));
}

/** Remove every message `markField` put in `scope`. */
export function clearFieldErrors(scope: HTMLElement): void {
  for (const error of scope.querySelectorAll(".field-error")) {
    const control = scope.querySelector(`[aria-describedby~="${error.id}"]`);
    if (control) {
      const rest = (control.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => id !== error.id);
      if (rest.length > 0) control.setAttribute("aria-describedby", rest.join(" "));
      else control.removeAttribute("aria-describedby");
      control.removeAttribute("aria-invalid");
    }
    error.remove();
  }
}

/**
 * Check the form's controls with the browser's constraint validation
 * (`required`, `pattern`, `type="email"`, ...) and show each problem next
 * to its control, rather than in the browser's own bubble, which goes away
 * and which some screen readers miss. Focuses the first invalid control.
 * Returns whether every control is valid.
 */
export function checkControls(form: HTMLFormElement): boolean {
  clearFieldErrors(form);
  const invalid = [...form.querySelectorAll<Control>("input, select, textarea")].filter(
    (c) => !c.disabled && !c.checkValidity(),
  );
  for (const control of invalid) markField(control, control.dataset.invalidMessage ?? control.validationMessage);
  invalid[0]?.focus();
  return invalid.length === 0;
}

/**
 * Put the field violations of a failed call next to the controls they name
 * (a control names its request field with `data-field`, such as
 * `user.user_id`; a violation of `user.attributes.x` goes to the control of
 * `user.attributes` when there is no closer one), and, by ErrorInfo reason,
 * errors about one field (a taken id). Returns the violations no control
 * took, for the page's message area, and focuses the first marked control.
 */
export function showAtFields(
  form: HTMLElement,
  report: ErrorReport,
  reasons: Record<string, string> = {},
): { field: string; description: string }[] {
  const controls = [...form.querySelectorAll<Control | HTMLFieldSetElement>("[data-field]")];
  const controlOf = (name: string) => {
    for (let path = name; path; path = path.slice(0, Math.max(0, path.lastIndexOf(".")))) {
      const control = controls.find((c) => c.dataset.field === path);
      if (control) return control;
    }
    return undefined;
  };
  const left: { field: string; description: string }[] = [];
  const marked: (Control | HTMLFieldSetElement)[] = [];
  for (const violation of report.violations) {
    const control = controlOf(violation.field);
    if (control) {
      markField(control, `${violation.field}: ${violation.description}`);
      marked.push(control);
    } else left.push(violation);
  }
  const reasonField = report.reason ? reasons[report.reason] : undefined;
  const reasonControl = reasonField ? controlOf(reasonField) : undefined;
  if (reasonControl) {
    markField(reasonControl, report.message);
    marked.push(reasonControl);
  }
  const first = marked[0];
  if (first instanceof HTMLFieldSetElement) first.querySelector<HTMLElement>("input, select, textarea")?.focus();
  else first?.focus();
  return left;
}
