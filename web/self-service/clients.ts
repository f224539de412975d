import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { SelfService } from "../../gen/roster/v1/self_service_pb.js";
import { UserAccess } from "../../gen/roster/v1/user_access_pb.js";
import { UserRegistry } from "../../gen/roster/v1/user_registry_pb.js";

/**
 * The server that served the page: the pages live at the top of the public
 * URL (`<public-url>/register`), so its folder is the API's base, also
 * behind a proxy that adds a path prefix.
 */
export const baseUrl = new URL(".", location.href).href.replace(/\/$/, "");

/** Connect (JSON); methods without side effects go as GET. No credentials: these pages act before signing in. */
const transport = createConnectTransport({ baseUrl, useHttpGet: true });

export const selfService = createClient(SelfService, transport);
export const users = createClient(UserRegistry, transport);
export const access = createClient(UserAccess, transport);

/** A page of the console or another public page, relative to the base (`console/`, `sign-in`). */
export function pageHref(path: string): string {
  return `${baseUrl}/${path}`;
}

/** The token in the page's fragment (`#token=rst_...`), or "". */
export function fragmentToken(name: string): string {
  return new URLSearchParams(location.hash.replace(/^#/, "")).get(name) ?? "";
}
