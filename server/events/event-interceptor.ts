import { randomUUID } from "node:crypto";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { type Caller, callerKey } from "../access/caller.js";
import { failpoint, isFailpoint } from "../failpoints.js";
import type { Logger } from "../log.js";
import { withChangeScope } from "../store/change-scope.js";
import type { EventActorDocument, EventIntentDocument, EventRecord } from "../store/events-store.js";
import type { Store } from "../store/store.js";
import { eventRuleOf } from "./event-table.js";

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
export function eventInterceptor(store: Store, options: { leaseMs: number; log: Logger }): Interceptor {
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

    let known: Pick<EventRecord, "user_ids" | "paths" | "object_ids">;
    try {
      known = details(undefined);
    } catch {
      known = { user_ids: [], paths: [], object_ids: [] };
    }
    const intent = await store.events.openIntent({ ...base, ...known }, options.leaseMs, rule.versioned ?? false);
    failpoint("event:intent");
    const scope = { intent: intent._id.toHexString(), writes: 0 };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await withChangeScope(scope, () => next(req));
    } catch (err) {
      // A simulated crash leaves the intent as a real one would.
      if (isFailpoint(err)) throw err;
      // The call failed; it may still have changed something before failing.
      const landed = scope.writes === 0 ? false : await store.changeLanded(scope.intent).catch(() => undefined);
      if (landed) await confirm(store, options.log, intent, details(undefined));
      else await store.events.dropIntent(intent._id).catch(() => {});
      throw err;
    }
    if (rule.changes && !rule.changes(message, res.message)) {
      await store.events.dropIntent(intent._id);
      return res;
    }
    failpoint("event:confirm");
    const final = details(res.message);
    await confirm(store, options.log, intent, final);
    for (const name of rule.names(message, res.message).slice(1)) {
      await store.events
        .record({ ...base, ...final, name })
        .catch((err) => options.log.warn({ err, name }, "could not record an event"));
    }
    return res;
  };
}

async function confirm(
  store: Store,
  log: Logger,
  intent: EventIntentDocument,
  details: Pick<EventRecord, "user_ids" | "paths" | "object_ids">,
): Promise<void> {
  try {
    await store.events.confirm({
      ...intent,
      user_ids: details.user_ids.length ? details.user_ids : intent.user_ids,
      paths: details.paths.length ? details.paths : intent.paths,
      object_ids: details.object_ids.length ? details.object_ids : intent.object_ids,
    });
  } catch (err) {
    // The change stands; the recovery pass records its event.
    log.warn({ err, event: intent.name }, "could not record an event; left for the recovery pass");
  }
}
