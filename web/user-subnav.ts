import { Right } from "../gen/roster/v1/rights_pb.js";
import { isBuiltIn } from "./builtin-users.js";
import { h } from "./dom.js";
import { href, type Route } from "./routes.js";
import { holds, type Session } from "./session.js";

/**
 * Links between the pages about one user (profile, API keys, settings),
 * shown on each of them; a page the session may not use is left out.
 */
export function userSubnav(session: Session, userId: string, current: Route["page"]): HTMLElement | null {
  if (isBuiltIn(userId)) return null;
  const self = userId === session.userId;
  const read = self ? holds(session, Right.USER_INFO) : holds(session, Right.ADMIN_USERS_READ);
  if (!read) return null;
  const keys = self ? holds(session, Right.USER_API_KEYS) : holds(session, Right.ADMIN_USERS_READ);
  const pages: [Route, string][] = [[{ page: "user", userId }, "Profile"]];
  if (keys) pages.push([{ page: "api-keys", userId }, "API keys"]);
  pages.push([{ page: "settings", userId }, "Settings"]);
  return h(
    "nav",
    { class: "subnav", "aria-label": `Pages of ${userId}` },
    h(
      "ul",
      {},
      ...pages.map(([route, label]) =>
        h("li", {}, h("a", { href: href(route), "aria-current": route.page === current ? "page" : undefined }, label)),
      ),
    ),
  );
}

/** The breadcrumb above a user's pages: "Users / ada / API keys" for admins, "ada / API keys" for others. */
export function userBreadcrumb(session: Session, userId: string, here?: string): HTMLElement {
  const users = holds(session, Right.ADMIN_USERS_READ);
  return h(
    "p",
    { class: "breadcrumb" },
    users ? h("a", { href: href({ page: "users" }) }, "Users") : null,
    users ? " / " : null,
    here ? h("a", { href: href({ page: "user", userId }) }, userId) : userId,
    here ? ` / ${here}` : null,
  );
}
