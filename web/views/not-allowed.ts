import { h } from "../dom.js";

/** What a page says instead of its content when the signed-in token lacks the right for it. */
export function notAllowed(what: string, right: string): HTMLElement {
  return h(
    "p",
    { class: "not-allowed" },
    `${what} needs the right ${right}, which this session does not hold. Sign in as an administrator to use it.`,
  );
}
