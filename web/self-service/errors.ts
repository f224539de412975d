import { ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { h } from "../dom.js";
import { errorLine, reportOf } from "../error-report.js";
import type { FormField } from "./form-field.js";

/** The ErrorInfo reason of a failed call, if the server sent one. */
export function reasonOf(error: unknown): string | undefined {
  return ConnectError.from(error)
    .findDetails(ErrorInfoSchema)
    .find((i) => i.reason)?.reason;
}

/**
 * Show a failed call: each invalid field's problem next to that field (by
 * the request field name the server reports), anything else in `area`.
 */
export function showCallError(area: HTMLElement, error: unknown, fields: Record<string, FormField>): void {
  for (const f of Object.values(fields)) f.setError("");
  const violations = ConnectError.from(error)
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations);
  const unplaced = violations.filter((v) => {
    const target = fields[v.field];
    target?.setError(`${capitalised(v.description)}.`);
    return !target;
  });
  const placed = violations.length - unplaced.length;
  if (placed > 0 && unplaced.length === 0) {
    area.replaceChildren(h("p", { class: "error", role: "alert" }, "Please correct the fields marked below."));
    const first = Object.values(fields).find((f) => f.control.getAttribute("aria-invalid") === "true");
    first?.control.focus();
    return;
  }
  const report = reportOf(error);
  area.replaceChildren(
    h(
      "div",
      { class: "error", role: "alert" },
      h("p", {}, report.code === "INVALID_ARGUMENT" ? capitalised(report.message) : errorLine(report)),
    ),
  );
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
