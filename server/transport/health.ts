import { EventEmitter, on } from "node:events";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/**
 * Serving status per service name; "" is the server as a whole. Every
 * registered service starts NOT_SERVING and flips to SERVING together once
 * the database answers and its indexes exist.
 */
export interface HealthStatus {
  set(status: ServingStatus): void;
  /** NOT_SERVING for good: Watch streams send it and end, so they do not hold up shutdown. */
  shutdown(): void;
  readonly closing: boolean;
  get(service: string): ServingStatus | undefined;
  readonly services: readonly string[];
  readonly events: EventEmitter;
}

export function createHealthStatus(serviceNames: readonly string[]): HealthStatus {
  const services = ["", ...serviceNames];
  const statuses = new Map<string, ServingStatus>(services.map((s) => [s, ServingStatus.NOT_SERVING]));
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let closing = false;
  return {
    services,
    events,
    get closing() {
      return closing;
    },
    shutdown() {
      closing = true;
      this.set(ServingStatus.NOT_SERVING);
    },
    get: (service) => statuses.get(service),
    set(status) {
      for (const s of services) statuses.set(s, status);
      events.emit("change", status);
    },
  };
}

export function healthService(health: HealthStatus): ServiceImpl<typeof Health> {
  const statusOf = (service: string) => {
    const status = health.get(service);
    if (status === undefined) throw new ConnectError(`unknown service "${service}"`, Code.NotFound);
    return status;
  };
  return {
    check(req) {
      return { status: statusOf(req.service) };
    },
    async *watch(req, ctx) {
      // Unknown services are reported as SERVICE_UNKNOWN instead of failing,
      // as the health protocol asks of Watch.
      const current = health.get(req.service);
      yield create(HealthCheckResponseSchema, { status: current ?? ServingStatus.SERVICE_UNKNOWN });
      if (current === undefined || health.closing) return;
      let last = current;
      try {
        for await (const [status] of on(health.events, "change", { signal: ctx.signal })) {
          if (status === last) {
            if (health.closing) return;
            continue;
          }
          last = status as ServingStatus;
          yield create(HealthCheckResponseSchema, { status: last });
          if (health.closing) return;
        }
      } catch (err) {
        // The client went away or the server is shutting down: end the stream.
        if (!ctx.signal.aborted) throw err;
      }
    },
    list() {
      return {
        statuses: Object.fromEntries(
          health.services.map((s) => [s, create(HealthCheckResponseSchema, { status: statusOf(s) })]),
        ),
      };
    },
  };
}
