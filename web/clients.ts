import { ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Events } from "../gen/roster/v1/events_pb.js";
import { InvitationRegistry } from "../gen/roster/v1/invitation_registry_pb.js";
import { UserAccess } from "../gen/roster/v1/user_access_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { UserSettings } from "../gen/roster/v1/user_settings_pb.js";
import { errUnauthenticated } from "../shared/errors.js";

let token: string | undefined;
let sessionEnded: (() => void) | undefined;

/** Send `value` as the bearer token of every later call (undefined: none). */
export function useToken(value: string | undefined): void {
  token = value;
}

/** Called when the server no longer accepts the token (expired, revoked, user suspended). */
export function onSessionEnded(handler: () => void): void {
  sessionEnded = handler;
}

/**
 * Adds `authorization: Bearer <token>`. A call refused because of the token
 * itself (reason UNAUTHENTICATED, not a wrong current password) ends the
 * session, unless the token was changed while the call was in flight.
 */
const bearer: Interceptor = (next) => async (request) => {
  const sent = token;
  if (sent) request.header.set("authorization", `Bearer ${sent}`);
  try {
    return await next(request);
  } catch (error) {
    const e = ConnectError.from(error);
    if (sent && sent === token && errUnauthenticated.is(e)) sessionEnded?.();
    throw error;
  }
};

/**
 * gRPC-Web with JSON messages, to the server that served the console (the
 * CSP allows no other). Not the Connect protocol: it answers a refused call
 * with an HTTP error status, which browsers log as a failed load in the
 * console even when the page handles it; gRPC-Web answers HTTP 200 and
 * puts the status in the trailers.
 */
const transport = createGrpcWebTransport({ baseUrl: location.origin, useBinaryFormat: false, interceptors: [bearer] });

export const users = createClient(UserRegistry, transport);
export const access = createClient(UserAccess, transport);
export const invitations = createClient(InvitationRegistry, transport);
export const events = createClient(Events, transport);
export const settings = createClient(UserSettings, transport);
