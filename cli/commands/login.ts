import type { JsonObject } from "@bufbuild/protobuf";
import { forgetLogin, loginFilePath, storeLogin } from "../login-store.js";
import type { AfterResult, CallOutcome, RpcCommandSpec } from "../rpc-spec.js";

const access = "roster.v1.UserAccess";

/** Keep the login token for this server, and show everything else of the answer. */
function keepLogin({ response, settings }: CallOutcome): AfterResult {
  const { token, ...shown } = response as JsonObject & { token: string; user_id: string; expires_at?: string };
  storeLogin(settings.server, { token, user_id: shown.user_id, expires_at: shown.expires_at });
  const notes = [
    `logged in to ${settings.server} as ${shown.user_id} until ${shown.expires_at}; the token is kept in ${loginFilePath()}`,
  ];
  if (shown.password_update_required === true) {
    notes.push("the password must be changed before anything else: roster users update-password");
  }
  return { show: shown, notes };
}

/** Forget the login token, also when the server no longer knew it. */
function dropLogin({ error, settings }: CallOutcome): AfterResult {
  const had = forgetLogin(settings.server);
  if (!error) return { show: null, notes: [`logged out of ${settings.server}`] };
  return {
    show: null,
    notes: [
      had
        ? `the login token had expired or was revoked already; it is forgotten (logged out of ${settings.server})`
        : `not logged in to ${settings.server}`,
    ],
  };
}

/**
 * After a password change that revoked login tokens, the stored one is
 * among them: forget it, and say so.
 */
export function dropRevokedLogin({ response, settings }: CallOutcome): AfterResult {
  if (settings.credential !== "login" || Number(response?.login_tokens_revoked ?? 0) === 0) return {};
  forgetLogin(settings.server);
  return { notes: ["the login tokens were revoked, this one too: roster login logs in again"] };
}

/**
 * `roster login`: UserAccess.Authenticate with a prompted (or piped)
 * password; the token is kept for the server and sent by later commands
 * that have no --api-key or ROSTER_API_KEY.
 */
export const loginCommand: RpcCommandSpec = {
  command: "login",
  rpc: `${access}.Authenticate`,
  args: ["user_id_or_email?"],
  ask: { user_id_or_email: "User id or email" },
  secrets: [{ field: "password", label: "Password" }],
  // A stale token sent along would make even this anonymous call fail.
  credential: "none",
  after: keepLogin,
  extraHelp:
    "The token is kept, readable by you only, for this server (in logins.json next to the config file) and " +
    "sent by later commands that have no --api-key or ROSTER_API_KEY. It is not printed.",
};

/** `roster logout`: UserAccess.Logout with the stored token, which is then forgotten. */
export const logoutCommand: RpcCommandSpec = {
  command: "logout",
  rpc: `${access}.Logout`,
  credential: "login",
  tolerate: ["UNAUTHENTICATED"],
  after: dropLogin,
  extraHelp:
    "The token of roster login is sent, then forgotten, also when the server no longer knows it (expired or revoked).",
};
