import type { CommandGroupSpec } from "../command-group.js";

const invitations = "roster.v1.InvitationRegistry";

/** `roster users invitations ...`: the InvitationRegistry, one line per method. */
export const invitationsCommands: CommandGroupSpec = {
  command: "invitations",
  aliases: ["invitation"],
  service: invitations,
  commands: [
    {
      command: ["send", "create"],
      rpc: `${invitations}.Send`,
      args: ["email"],
      // Most invitations have none, so it is not asked for on the terminal.
      secrets: [{ field: "initial_password", label: "Initial password", optional: true, prompt: false }],
      flagAliases: { "password-stdin": "initial-password-stdin" },
    },
    { command: "get", rpc: `${invitations}.Get`, args: ["email"] },
    {
      command: ["list", "ls"],
      rpc: `${invitations}.List`,
      presets: {
        pending: { field: "status", value: "PENDING" },
        accepted: { field: "status", value: "ACCEPTED" },
        expired: { field: "status", value: "EXPIRED" },
        revoked: { field: "status", value: "REVOKED" },
      },
    },
    { command: ["delete", "rm", "revoke"], rpc: `${invitations}.Delete`, args: ["email"] },
    { command: "resend", rpc: `${invitations}.Resend`, args: ["email"] },
  ],
};
