/** The console's pages, addressed by the URL's fragment (`#/users/ada`), so that reloads and links work. */
export type Route =
  | { page: "home" }
  | { page: "users" }
  | { page: "user"; userId: string }
  | { page: "invitations" }
  | { page: "password" };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "users" && parts.length === 1) return { page: "users" };
  if (parts[0] === "users" && parts.length === 2) return { page: "user", userId: parts[1] as string };
  if (parts[0] === "invitations") return { page: "invitations" };
  if (parts[0] === "password") return { page: "password" };
  return { page: "home" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "home":
      return "#/";
    case "user":
      return `#/users/${encodeURIComponent(route.userId)}`;
    default:
      return `#/${route.page}`;
  }
}
