import type { CommandGroupSpec } from "../command-group.js";
import { flagName } from "../field-flags.js";
import type { RpcCommandSpec } from "../rpc-spec.js";

const events = "roster.v1.Events";

/** `--user` and `--actor`: short names of the filter's flags for `user_id` and `actor_user_id`. */
const filterAliases = { user: flagName("user_id"), actor: flagName("actor_user_id") };

/** `roster events ...`: the audit trail (Events service). */
export const eventsCommands: CommandGroupSpec = {
  command: "events",
  aliases: ["event"],
  service: events,
  commands: [
    { command: ["list", "ls"], rpc: `${events}.List`, flagAliases: filterAliases },
    {
      command: "stream",
      rpc: `${events}.Stream`,
      flagAliases: filterAliases,
      lines: true,
      extraHelp: "Prints one JSON object a line until interrupted; resume with --after-id <the last id printed>.",
    },
  ],
};

/** `roster users history <user>`: the events about one user, newest first. */
export const userHistoryCommand: RpcCommandSpec = {
  command: "history",
  rpc: `${events}.List`,
  args: ["filter.user_id"],
  describe: "The events about a user (who changed what, when), newest first",
  flagAliases: { actor: flagName("actor_user_id") },
};
