import { Right } from "../gen/roster/v1/rights_pb.js";
import { h } from "./dom.js";
import { href, type Route } from "./routes.js";
import { holds, passwordChangeOnly, type Session } from "./session.js";

/**
 * The bar above every page: a skip link, the pages this session may use
 * (admins' pages are not offered to others), who is signed in, and Sign out.
 */
export function header(session: Session, route: Route, signOut: () => void): HTMLElement {
  const links: [Route, string][] = [];
  if (!passwordChangeOnly(session)) {
    if (holds(session, Right.ADMIN_USERS_READ)) links.push([{ page: "users" }, "Users"]);
    if (holds(session, Right.ADMIN_INVITATIONS)) links.push([{ page: "invitations" }, "Invitations"]);
    if (holds(session, Right.USER_INFO)) {
      links.push([{ page: "user", userId: session.userId }, "My account"]);
      links.push([{ page: "token-requests" }, "Token requests"]);
    }
  }
  if (holds(session, Right.USER_PASSWORD)) links.push([{ page: "password" }, "Change password"]);
  const current = href(route);
  const skip = h("a", { class: "skip-link", href: "#main" }, "Skip to content");
  // The fragment names pages, so the skip link moves the focus itself.
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    document.querySelector<HTMLElement>("main h1")?.focus();
  });
  return h(
    "header",
    { class: "top" },
    skip,
    h("p", { class: "brand" }, "Roster"),
    h(
      "nav",
      { "aria-label": "Console" },
      h(
        "ul",
        { class: "nav-links" },
        ...links.map(([target, label]) =>
          h(
            "li",
            {},
            h("a", { href: href(target), "aria-current": href(target) === current ? "page" : undefined }, label),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "who" },
      h(
        "span",
        {},
        "Signed in as ",
        h("strong", {}, session.userId),
        ` (${session.admin ? "admin, " : ""}${session.tokenKind === "login" ? "password" : "API key"})`,
      ),
      h("button", { type: "button", onclick: signOut }, "Sign out"),
    ),
  );
}
