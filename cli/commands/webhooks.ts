import type { CommandGroupSpec } from "../command-group.js";

const webhooks = "roster.v1.Webhooks";

/** `roster webhooks ...`: the Webhooks service, one line per method. */
export const webhooksCommands: CommandGroupSpec = {
  command: "webhooks",
  aliases: ["webhook"],
  service: webhooks,
  commands: [
    {
      command: "create",
      rpc: `${webhooks}.Create`,
      extraHelp:
        "The secret (whsec_...) is printed once: give it to the receiver, which checks webhook-signature with it.",
    },
    { command: ["list", "ls"], rpc: `${webhooks}.List` },
    { command: "get", rpc: `${webhooks}.Get`, args: ["id"] },
    { command: ["update", "set"], rpc: `${webhooks}.Update`, args: ["webhook.id"] },
    {
      command: ["delete", "rm"],
      rpc: `${webhooks}.Delete`,
      args: ["id"],
      confirm: (request) => `Delete webhook ${request.id} and its deliveries?`,
    },
    { command: "test", rpc: `${webhooks}.Test`, args: ["id"] },
    {
      command: "deliveries",
      rpc: `${webhooks}.ListDeliveries`,
      args: ["webhook_id"],
      presets: {
        pending: { field: "status", value: "PENDING" },
        delivered: { field: "status", value: "DELIVERED" },
        failed: { field: "status", value: "FAILED" },
      },
    },
  ],
};
