import { type Child, h } from "./dom.js";
import { type ErrorReport, errorLine, reportOf } from "./error-report.js";
import { clearFieldErrors, showAtFields } from "./field-errors.js";

/**
 * A live region for a view's outcomes: notices are announced politely,
 * errors as alerts. It exists before anything is put in it, so that screen
 * readers pick up the first message too.
 */
export function messageArea(): HTMLElement {
  return h("div", { class: "messages", "aria-live": "polite" });
}

/** Show a success or information line, replacing earlier messages. */
export function showNotice(area: HTMLElement, ...content: Child[]): void {
  area.replaceChildren(h("p", { class: "notice", role: "status" }, ...content));
}

/**
 * Show a failed call: code, the server's message, the ErrorInfo reason and
 * any invalid fields; `advice` (such as a Reload button) follows. Returns
 * the report for callers that react to the code.
 */
export function showError(area: HTMLElement, error: unknown, advice?: (report: ErrorReport) => Child[]): ErrorReport {
  const report = reportOf(error);
  area.replaceChildren(
    h(
      "div",
      { class: "error", role: "alert" },
      h("p", {}, errorLine(report)),
      report.fields.length > 0 ? h("ul", {}, ...report.fields.map((f) => h("li", {}, f))) : null,
      ...(advice?.(report) ?? []),
    ),
  );
  return report;
}

/** Remove every message. */
export function clearMessages(area: HTMLElement): void {
  area.replaceChildren();
}

/**
 * Show a failed call of `form`: each field violation next to the control
 * that names it (`data-field`), the rest and the error line in `area`.
 * `reasons` maps ErrorInfo reasons about one field (`USER_ID_TAKEN`) to it.
 */
export function showFormError(
  area: HTMLElement,
  form: HTMLElement,
  error: unknown,
  reasons: Record<string, string> = {},
): ErrorReport {
  const report = reportOf(error);
  clearFieldErrors(form);
  const left = showAtFields(form, report, reasons);
  area.replaceChildren(
    h(
      "div",
      { class: "error", role: "alert" },
      h("p", {}, errorLine(report)),
      left.length > 0 ? h("ul", {}, ...left.map((f) => h("li", {}, `${f.field}: ${f.description}`))) : null,
    ),
  );
  return report;
}

/**
 * Make a call of a view: once it succeeded, show `notice` and reload the
 * view with `reload`; if it failed, show the error. True on success.
 */
export async function callThenReload(
  area: HTMLElement,
  call: () => Promise<unknown>,
  notice: string,
  reload: () => Promise<void>,
): Promise<boolean> {
  try {
    await call();
  } catch (error) {
    showError(area, error);
    return false;
  }
  showNotice(area, notice);
  await reload();
  return true;
}
