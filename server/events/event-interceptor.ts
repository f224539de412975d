import { randomUUID } from "node:crypto";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { type Caller, callerKey, clientAddressKey, signInAccountKey } from "../access/caller.js";
import { inBackground } from "../call-scope/background.js";
import type { Logger } from "../runtime/log.js";
import type { EventActorDocument, EventRecord } from "../store/events-store.js";
import type { Store } from "../store/store.js";
import { eventRuleOf } from "./event-table.js";
import { recordChange } from "./record-change.js";

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

/** An RPC as the recorder reads it: which method, its request, headers and context. */
export interface RecordedCall {
  method: DescMethod;
  message: unknown;
  header: Headers;
  contextValues: ContextValues;
}

export function eventInterceptor(store: Store, options: EventOptions): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    return recordRpc(
      store,
      options,
      req,
      () => next(req),
      (res) => res?.message,
    );
  };
}

/**
 * Run an RPC (`run`) and record its event by the event table: the
 * interceptor does this for every call, and SCIM for the registry calls it
 * makes in-process. `messageOf` reads the response message from `run`'s result.
 */
export async function recordRpc<T>(
  store: Store,
  options: EventOptions,
  call: RecordedCall,
  run: () => Promise<T>,
  messageOf: (result: T | undefined) => unknown,
): Promise<T> {
  const rule = eventRuleOf(call.method);
  if (!rule) return run();
  const method = `${call.method.parent.typeName}/${call.method.name}`;
  const caller = call.contextValues.get(callerKey);
  const callerId = caller?.userId ?? "";
  const message = call.message;
  const names = rule.names(message, undefined);
  const base: EventRecord = {
    name: names[0] ?? method,
    time: new Date(),
    actor: actorOf(caller),
    user_ids: [],
    paths: [],
    object_ids: [],
    request_id: call.header.get("x-request-id")?.slice(0, 128) || randomUUID(),
    client_address: call.contextValues.get(clientAddressKey),
    user_agent: (call.header.get("user-agent") ?? "").slice(0, 256),
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
      const res = await run();
      const answer = messageOf(res);
      const userId = (answer as { userId?: string }).userId ?? "";
      await store.events.record({
        ...base,
        ...details(answer),
        actor: { user_id: userId, credential_kind: "password", credential_id: "" },
      });
      return res;
    } catch (err) {
      const account = call.contextValues.get(signInAccountKey);
      if (err instanceof ConnectError && err.code === Code.Unauthenticated && account) {
        // Not awaited: a failure answers as fast whether or not the account exists. In the
        // background, so that the call's end does not abort the write.
        void inBackground(() =>
          store.events
            .record({ ...base, name: "user.login.fail", user_ids: [account] })
            .catch((e) => options.log.warn({ err: e }, "could not record a failed sign-in")),
        );
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
  const deadlineMs = Math.min(requestedDeadlineMs(call.header) ?? options.defaultDeadlineMs, options.maxDeadlineMs);
  return recordChange(
    store,
    {
      record: { ...base, ...before },
      versioned: rule.versioned ?? false,
      leaseMs: deadlineMs + options.leaseMs,
      log: options.log,
    },
    run,
    (res) => known(messageOf(res)),
  );
}

/**
 * `impl` with its changes recorded, for callers that use a service in
 * process, past the interceptors (SCIM uses the user registry so).
 */
export function recordedService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  store: Store,
  options: EventOptions,
): ServiceImpl<S> {
  const recorded: Record<string, unknown> = { ...impl };
  for (const method of service.methods) {
    const handler = (impl as Record<string, unknown>)[method.localName];
    if (method.methodKind !== "unary" || typeof handler !== "function" || !eventRuleOf(method)) continue;
    recorded[method.localName] = (req: unknown, ctx: HandlerContext) =>
      recordRpc(
        store,
        options,
        { method, message: req, header: ctx.requestHeader, contextValues: ctx.values },
        () => handler.call(impl, req, ctx) as Promise<unknown>,
        (res) => res,
      );
  }
  return recorded as ServiceImpl<S>;
}

/** A change made outside any RPC (SCIM's password set), and how to name its event. */
export interface OwnChange {
  name: string;
  userId: string;
  paths: string[];
  /** What the event's `method` says, such as "scim PUT /Users". */
  method: string;
}

/**
 * Record a change that no RPC of the event table makes, as recordRpc would:
 * intent, change, event, recoverable in between. The actor and request
 * details come from `ctx`.
 */
export function recordOwnChange(store: Store, options: EventOptions) {
  return <T>(ctx: HandlerContext, change: OwnChange, run: () => Promise<T>): Promise<T> => {
    const outcome = { user_ids: [change.userId], paths: change.paths, object_ids: [] };
    return recordChange(
      store,
      {
        record: {
          name: change.name,
          time: new Date(),
          actor: actorOf(ctx.values.get(callerKey)),
          ...outcome,
          request_id: ctx.requestHeader.get("x-request-id")?.slice(0, 128) || randomUUID(),
          client_address: ctx.values.get(clientAddressKey),
          user_agent: (ctx.requestHeader.get("user-agent") ?? "").slice(0, 256),
          method: change.method,
        },
        // Its writes are not all versioned (tokens are deleted): recorded after a crash.
        versioned: false,
        leaseMs: Math.min(ctx.timeoutMs() ?? options.defaultDeadlineMs, options.maxDeadlineMs) + options.leaseMs,
        log: options.log,
      },
      run,
      () => outcome,
    );
  };
}
