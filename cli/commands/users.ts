import type { JsonObject } from "@bufbuild/protobuf";
import type { CommandGroupSpec } from "../command-group.js";
import { exitCodes } from "../errors.js";
import type { AfterResult, CallOutcome } from "../rpc-spec.js";
import { agreementsCommands } from "./agreements.js";
import { apiKeysCommands } from "./api-keys.js";
import { userHistoryCommand } from "./events.js";
import { invitationsCommands } from "./invitations.js";
import { dropRevokedLogin } from "./login.js";
import { settingsCommands } from "./settings.js";
import { tokenRequestsCommands } from "./token-requests.js";

const registry = "roster.v1.UserRegistry";

/**
 * A user created with an API key, as a table, is the row REANA's
 * user-create prints: ID, EMAIL, ACCESS_TOKEN.
 */
function reanaCreateRow({ response, settings }: CallOutcome): AfterResult {
  const user = response?.user as JsonObject | undefined;
  if (settings.output !== "table" || !response?.api_key || !user) return {};
  return {
    show: [{ id: user.user_id ?? "", email: user.primary_email_address ?? "", access_token: response.api_key }],
  };
}
const access = "roster.v1.UserAccess";
const bulk = "roster.v1.UserBulk";
const selfService = "roster.v1.SelfService";

/**
 * `roster users ...`: one line per method of the UserRegistry, and the
 * methods of UserAccess, UserSettings and UserBulk about one user or many.
 * Flags, help and output come from the descriptors (see rpc-spec.ts).
 */
export const usersCommands: CommandGroupSpec = {
  command: "users",
  aliases: ["user", "u"],
  service: registry,
  commands: [
    {
      command: "create",
      rpc: `${registry}.Create`,
      args: ["user.user_id?"],
      extras: ["api_key"],
      secrets: [{ field: "password", label: "Password", confirm: true, optional: true }],
      after: reanaCreateRow,
    },
    {
      command: "invite",
      rpc: `${registry}.Create`,
      args: ["user.primary_email_address"],
      fixed: { send_email: true, "user.require_password_update": true },
      extras: ["api_key"],
      secrets: [{ field: "password", label: "Password", optional: true, prompt: false }],
      describe:
        "Invite a user by email as Wallaroo does: the approved user is created at once (its id derived from the address unless one is given) and emailed; the password from --password-stdin, or else a temporary one sent in that email, must be changed at the first sign-in",
      extraHelp:
        "A Create with send_email and require_password_update set. For an invitation that creates nobody until the invitee registers (The Things Stack's), see roster users invitations send.",
    },
    {
      command: "get",
      rpc: `${registry}.Get`,
      args: ["user_id"],
      many: { rpc: `${registry}.BatchGet`, field: "user_ids" },
      missing: ["missing_user_ids", "missing_email_addresses"],
    },
    { command: ["current", "me"], rpc: `${registry}.GetCurrent` },
    { command: ["list", "ls"], rpc: `${registry}.List` },
    { command: "search", rpc: `${registry}.Search` },
    { command: ["update", "set"], rpc: `${registry}.Update`, args: ["user.user_id"] },
    { command: ["delete", "rm"], rpc: `${registry}.Delete`, args: ["user_id"] },
    { command: "restore", rpc: `${registry}.Restore`, args: ["user_id"] },
    {
      command: "purge",
      rpc: `${registry}.Purge`,
      args: ["user_id"],
      confirm: (request) => `Purge user ${request.user_id} for good? It cannot be restored and its id becomes free.`,
    },
    { command: "setup", rpc: `${registry}.Setup`, args: ["user_id"] },
    { command: "activate", rpc: `${registry}.Activate`, args: ["user_id?"] },
    { command: ["unsetup", "deactivate"], rpc: `${registry}.Unsetup`, args: ["user_id"] },
    {
      command: "merge",
      rpc: `${registry}.Merge`,
      args: ["old_user_id", "new_user_id"],
      // Without admin rights, the old user proves it holds the new account too (Arvados).
      secrets: [{ field: "new_user_token", label: "New user token", optional: true, prompt: false }],
      confirm: (request) =>
        `Merge user ${request.old_user_id} into ${request.new_user_id}? ${request.old_user_id} is deleted afterwards.`,
    },
    { command: "rename", rpc: `${registry}.Rename`, args: ["user_id", "new_user_id"] },
    userHistoryCommand,
    { command: "rights", rpc: `${access}.ListRights` },
    {
      command: "update-password",
      rpc: `${access}.UpdatePassword`,
      secrets: [
        { field: "old_password", label: "Current password" },
        { field: "new_password", label: "New password", confirm: true },
      ],
      after: dropRevokedLogin,
    },
    { command: "reset-password", rpc: `${access}.CreateTemporaryPassword`, args: ["user_id"] },
    // The self-service links, sent for a user by an operator.
    { command: "verify-email", rpc: `${selfService}.RequestEmailValidation`, args: ["user_id?"] },
    { command: "send-password-reset", rpc: `${selfService}.RequestPasswordReset`, args: ["email"] },
    {
      command: "tokens",
      aliases: ["token"],
      describe: "Revoke a user's login tokens and API keys: all of them, or only one kind",
      commands: [
        {
          command: "revoke",
          rpc: `${access}.RevokeTokens`,
          args: ["user_id?"],
          presets: {
            "login-only": { field: "kind", value: "LOGIN" },
            "api-only": { field: "kind", value: "API_KEY" },
          },
          flagAliases: { before: "issued-before" },
        },
      ],
    },
    { command: "export", rpc: `${bulk}.Export`, records: { select: "user" } },
    {
      command: "import",
      rpc: `${bulk}.Import`,
      batches: {
        field: "users",
        rowNumber: "first_row_number",
        failures: { invalid: exitCodes.invalid, failed: exitCodes.conflict },
      },
    },
    apiKeysCommands,
    tokenRequestsCommands,
    settingsCommands,
    agreementsCommands,
    invitationsCommands,
  ],
};
