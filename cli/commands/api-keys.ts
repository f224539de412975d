import type { CommandGroupSpec } from "../command-group.js";

const access = "roster.v1.UserAccess";

/** `roster users api-keys ...`: the API-key methods of UserAccess, as in ttn-lw-cli. */
export const apiKeysCommands: CommandGroupSpec = {
  command: "api-keys",
  aliases: ["api-key"],
  describe:
    "Manage the API keys of a user: create (the secret is shown once), list, get, update, expire, delete; a key is named by its id or its name",
  commands: [
    { command: "create", rpc: `${access}.CreateAPIKey`, args: ["user_id"] },
    { command: ["list", "ls"], rpc: `${access}.ListAPIKeys`, args: ["user_id"] },
    { command: "get", rpc: `${access}.GetAPIKey`, args: ["user_id", "id"] },
    { command: ["update", "set"], rpc: `${access}.UpdateAPIKey`, args: ["api_key.user_id", "api_key.id"] },
    { command: ["delete", "rm"], rpc: `${access}.DeleteAPIKey`, args: ["user_id", "id"] },
    { command: "expire", rpc: `${access}.ExpireAPIKey`, args: ["user_id", "id"] },
  ],
};
