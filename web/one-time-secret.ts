import { h } from "./dom.js";

/**
 * A secret the server returns once (temporary password, invitation token):
 * shown in a box with a copy button until dismissed, never stored.
 */
export function oneTimeSecret(label: string, secret: string): HTMLElement {
  const status = h("span", { class: "hint", "aria-live": "polite" });
  const box: HTMLElement = h(
    "div",
    { class: "secret", role: "status" },
    h("p", {}, `${label} It is shown only now: copy it before you leave this page.`),
    h("output", { class: "secret-value" }, secret),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          onclick: () => {
            navigator.clipboard.writeText(secret).then(
              () => status.replaceChildren("Copied."),
              () => status.replaceChildren("Copying is not allowed here; select the text instead."),
            );
          },
        },
        "Copy",
      ),
      h("button", { type: "button", onclick: () => box.remove() }, "Dismiss"),
      status,
    ),
  );
  return box;
}
