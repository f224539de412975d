import type { RpcCommandSpec } from "../rpc-command.js";

/** `roster health`: the standard gRPC health check, which needs no credentials. */
export const healthCommand: RpcCommandSpec = {
  command: "health",
  rpc: "grpc.health.v1.Health.Check",
  describe: "Ask whether the server (or one of its services, with --service) is serving",
};
