import type { CommandGroupSpec } from "../command-group.js";

const health = "grpc.health.v1.Health";

/** `roster health [check|watch]`: the standard gRPC health service, which needs no credentials. */
export const healthCommands: CommandGroupSpec = {
  command: "health",
  describe: "Ask whether the server (or one of its services, with --service) is serving",
  commands: [
    { command: ["check", "$0"], rpc: `${health}.Check` },
    { command: "watch", rpc: `${health}.Watch` },
  ],
};
