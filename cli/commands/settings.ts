import type { CommandGroupSpec } from "../command-group.js";

const settings = "roster.v1.UserSettings";

/** `roster users settings ...`: the UserSettings service (Conch's settings, Arvados' prefs). */
export const settingsCommands: CommandGroupSpec = {
  command: "settings",
  aliases: ["setting"],
  service: settings,
  commands: [
    { command: "get", rpc: `${settings}.Get`, args: ["user_id", "key?"], without: { rpc: `${settings}.List` } },
    { command: "set", rpc: `${settings}.Set`, args: ["user_id", "key", "value"] },
    { command: ["unset", "delete", "rm"], rpc: `${settings}.Delete`, args: ["user_id", "key"] },
    { command: "replace", rpc: `${settings}.Replace`, args: ["user_id", "settings"] },
  ],
};
