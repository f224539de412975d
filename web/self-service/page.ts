import { type Child, h } from "../dom.js";
import { pageHref } from "./clients.js";

/** A public page: the product name, a heading that takes the focus, and its content. */
export function page(title: string, ...content: Child[]): HTMLElement {
  document.title = `${title} — Roster`;
  return h(
    "main",
    { id: "main", class: "self-service" },
    h("p", { class: "brand-line" }, h("a", { href: pageHref("sign-in") }, "Roster")),
    h("h1", { tabindex: "-1" }, title),
    ...content,
  );
}

/** A paragraph of links to other pages. */
export function nextSteps(...links: [string, string][]): HTMLElement {
  return h(
    "ul",
    { class: "next-steps" },
    links.map(([path, text]) => h("li", {}, h("a", { href: pageHref(path) }, text))),
  );
}
