import { randomUUID } from "node:crypto";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { type Caller, callerKey } from "../access/caller.js";
import type { Logger } from "../log.js";
import type { EventActorDocument, EventRecord } from "../store/events-store.js";
import type { Store } from "../store/store.js";
import { eventRuleOf } from "./event-table.js";
import { recordChange } from "./record-change.js";

/** The client's address, set per HTTP request (see app.ts). */
export const clientAddressKey = createContextKey<string>("", { description: "roster client address" });

const authenticateMethod = "roster.v1.UserAccess/Authenticate";

function actorOf(caller: Caller | undefined): EventActorDocument {
  if (!caller) return { user_id: "", credential_kind: "anonymous", credential_id: "" };
  return { user_id: caller.userId, credential_kind: caller.tokenKind, credential_id: caller.tokenId };
}

function clean(ids: readonly unknown[]): string[] {
  return [...new Set(ids.filter((id): id is string => typeof id === "string" && id !== ""))];
}

/**
 * Records the event of every successful change, in one place: for an RPC
 * in the event table, an intent is written before the handler runs and
 * confirmed as an event after it succeeded, or dropped when it failed
 * without changing anything. A process that dies in between leaves the
 * intent to the recovery pass (event-recovery.ts). Sign-ins are recorded
 * whether they succeed or fail. Requests and responses are read only for
 * ids, field paths and names, so no secret reaches an event.
 */
/** grpc-timeout units, in ms. */
const grpcTimeoutUnits: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** The call's deadline as the client asked for it (Connect or gRPC header), if it did. */
export function requestedDeadlineMs(header: Headers): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect && /^\d{1,10}$/.test(connect)) return Number(connect);
  const m = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  return m ? Number(m[1]) * (grpcTimeoutUnits[m[2] as string] ?? 1) : undefined;
}

export interface EventOptions {
  /** Added to the call's deadline to make the lease of its intent (see Config.eventLeaseMs). */
  leaseMs: number;
  /** Deadline of calls whose client set none. */
  defaultDeadlineMs: number;
  /** Largest deadline a client may ask for. */
  maxDeadlineMs: number;
  log: Logger;
}

export function eventInterceptor(store: Store, options: EventOptions): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const rule = eventRuleOf(req.method);
    if (!rule) return next(req);
    const method = `${req.method.parent.typeName}/${req.method.name}`;
    const caller = req.contextValues.get(callerKey);
    const callerId = caller?.userId ?? "";
    const message = req.message;
    const names = rule.names(message, undefined);
    const base: EventRecord = {
      name: names[0] ?? method,
      time: new Date(),
      actor: actorOf(caller),
      user_ids: [],
      paths: [],
      object_ids: [],
      request_id: req.header.get("x-request-id")?.slice(0, 128) || randomUUID(),
      client_address: req.contextValues.get(clientAddressKey),
      user_agent: (req.header.get("user-agent") ?? "").slice(0, 256),
      method,
    };
    const details = (res: unknown): Pick<EventRecord, "user_ids" | "paths" | "object_ids"> => ({
      user_ids: clean(rule.users(message, res ?? {}, callerId)),
      paths: clean(rule.paths?.(message, res ?? {}) ?? []),
      object_ids: clean(rule.objects?.(message, res ?? {}) ?? []),
    });

    if (method === authenticateMethod) {
      // Nothing to make recoverable: a sign-in is recorded after the fact.
      try {
        const res = await next(req);
        const userId = (res.message as { userId?: string }).userId ?? "";
        await store.events.record({
          ...base,
          ...details(res.message),
          actor: { user_id: userId, credential_kind: "password", credential_id: "" },
        });
        return res;
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
          const named = (message as { userIdOrEmail?: string }).userIdOrEmail ?? "";
          await store.events
            .record({ ...base, name: "user.login.fail", object_ids: clean([named.slice(0, 320)]) })
            .catch((e) => options.log.warn({ err: e }, "could not record a failed sign-in"));
        }
        throw err;
      }
    }

    const known = (res: unknown) => ({
      ...details(res),
      changed: rule.changes ? rule.changes(message, res) : true,
      alsoNames: res === undefined ? [] : rule.names(message, res).slice(1),
    });
    let before: Pick<EventRecord, "user_ids" | "paths" | "object_ids">;
    try {
      before = details(undefined);
    } catch {
      before = { user_ids: [], paths: [], object_ids: [] };
    }
    // The intent is judged only once the call can no longer be running: its
    // deadline (which stops its reads) and a margin for a last write in flight.
    const deadlineMs = Math.min(requestedDeadlineMs(req.header) ?? options.defaultDeadlineMs, options.maxDeadlineMs);
    return recordChange(
      store,
      {
        record: { ...base, ...before },
        versioned: rule.versioned ?? false,
        leaseMs: deadlineMs + options.leaseMs,
        log: options.log,
      },
      () => next(req),
      (res) => known(res?.message),
    );
  };
}
