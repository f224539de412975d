import type { CommandGroupSpec } from "../command-group.js";

const agreements = "roster.v1.UserAgreements";

/** `roster users agreements ...`: the UserAgreements service (Arvados' user agreements). */
export const agreementsCommands: CommandGroupSpec = {
  command: "agreements",
  aliases: ["agreement"],
  service: agreements,
  commands: [
    { command: ["list", "ls"], rpc: `${agreements}.List`, args: ["user_id?"] },
    { command: "set", rpc: `${agreements}.Set`, args: ["agreement.id"] },
    { command: ["delete", "rm"], rpc: `${agreements}.Delete`, args: ["id"] },
    { command: ["accept", "sign"], rpc: `${agreements}.Accept`, args: ["id"] },
  ],
};
