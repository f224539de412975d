import type { CommandGroupSpec } from "../command-group.js";

const access = "roster.v1.UserAccess";

/** `roster users token-requests ...`: requests for API keys (REANA's token requests), one line per method. */
export const tokenRequestsCommands: CommandGroupSpec = {
  command: "token-requests",
  aliases: ["token-request"],
  describe: "Ask the admins for an API key; admins grant or deny; the requester retrieves the key once",
  commands: [
    { command: "create", rpc: `${access}.CreateTokenRequest` },
    { command: ["list", "ls"], rpc: `${access}.ListTokenRequests`, args: ["user_id?"] },
    { command: "get", rpc: `${access}.GetTokenRequest`, args: ["id"] },
    { command: "grant", rpc: `${access}.GrantTokenRequest`, args: ["id"] },
    { command: "deny", rpc: `${access}.DenyTokenRequest`, args: ["id"] },
    { command: "retrieve", rpc: `${access}.RetrieveTokenRequestKey`, args: ["id"] },
  ],
};
