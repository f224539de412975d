/** The console's pages, addressed by the URL's fragment (`#/users/ada`), so that reloads and links work. */
export type Route =
  | { page: "home" }
  | { page: "users" }
  | { page: "new-user" }
  | { page: "user"; userId: string }
  | { page: "api-keys"; userId: string }
  | { page: "settings"; userId: string }
  | { page: "invitations" }
  | { page: "token-requests" }
  | { page: "password" };

/** The pages about one user, under `#/users/<id>/`. */
const userPages = ["api-keys", "settings"] as const;

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [first, userId, sub] = parts;
  if (first === "users" && parts.length === 1) return { page: "users" };
  if (first === "users" && userId !== undefined && parts.length === 2) return { page: "user", userId };
  if (first === "users" && userId !== undefined && parts.length === 3) {
    const page = userPages.find((p) => p === sub);
    if (page) return { page, userId };
  }
  if (first === "new-user") return { page: "new-user" };
  if (first === "invitations") return { page: "invitations" };
  if (first === "token-requests") return { page: "token-requests" };
  if (first === "password") return { page: "password" };
  return { page: "home" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "home":
      return "#/";
    case "user":
      return `#/users/${encodeURIComponent(route.userId)}`;
    case "api-keys":
    case "settings":
      return `#/users/${encodeURIComponent(route.userId)}/${route.page}`;
    default:
      return `#/${route.page}`;
  }
}
