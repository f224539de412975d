import type { CommandGroupSpec } from "../command-group.js";
import { apiKeysCommands } from "./api-keys.js";
import { invitationsCommands } from "./invitations.js";

const registry = "roster.v1.UserRegistry";

/**
 * `roster users ...`: one line per method of the UserRegistry. Flags, help
 * and output come from the descriptors (see rpc-command.ts).
 */
export const usersCommands: CommandGroupSpec = {
  command: "users",
  aliases: ["user", "u"],
  service: registry,
  commands: [
    {
      command: "create",
      rpc: `${registry}.Create`,
      args: ["user.user_id"],
      secrets: [{ field: "password", label: "Password", confirm: true, optional: true }],
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
    apiKeysCommands,
    invitationsCommands,
  ],
};
