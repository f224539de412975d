import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Counter, Histogram } from "prom-client";
import { errMissingRight, errUnauthenticated } from "../../shared/errors.js";
import { authenticate } from "../access/authenticate.js";
import { callerKey, requireRight } from "../access/caller.js";
import type { CallerCache } from "../access/caller-cache.js";
import { resolveUserNames } from "../access/user-names.js";
import { withCallDeadline } from "../call-scope/deadline.js";
import { accessRuleOf } from "../rights/rights-table.js";
import type { Logger } from "../runtime/log.js";
import { databaseErrorCode } from "../store/database-errors.js";
import type { Store } from "../store/store.js";

/**
 * Resolve the caller from the bearer token, the users named by email in the
 * request (see user-names.ts), and check the rights table. Runs before
 * every handler.
 */
export function authInterceptor(store: Store, cache?: CallerCache): Interceptor {
  return (next) => async (req) => {
    const rule = accessRuleOf(req.method);
    if (!rule) throw errMissingRight({ right: "(none defined for this method)" });
    if ("public" in rule) return next(req);
    const caller = await authenticate(store, req.header.get("authorization"), { cache });
    req.contextValues.set(callerKey, caller);
    // Users named by email become ids before anything compares them.
    if (!req.stream) await resolveUserNames(store, req.method.input, req.message, caller);
    if ("authenticated" in rule) {
      if (!caller) throw errUnauthenticated({});
    } else if ("right" in rule) {
      requireRight(caller, rule.right);
    } else if ("self" in rule) {
      const target = req.stream ? undefined : rule.target(req.message) || caller?.userId;
      requireRight(caller, caller && target === caller.userId ? rule.self : rule.others);
    }
    return next(req);
  };
}

/**
 * Bound every unary call by its deadline: the client's (Connect-Timeout-Ms,
 * grpc-timeout), or the default one when it set none. The answer leaves when
 * the deadline passes, whatever the handler (or the database driver, waiting
 * for a server or a connection) is still doing; the deadline's signal is
 * also the call's `callSignal()`, which the store hands to the driver.
 */
export function deadlineInterceptor(defaultDeadlineMs: number): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const clientDeadline = req.header.has("grpc-timeout") || req.header.has("connect-timeout-ms");
    const own = new AbortController();
    const timer = clientDeadline
      ? undefined
      : setTimeout(
          () =>
            own.abort(
              new ConnectError(
                `no answer within the default deadline of ${defaultDeadlineMs} ms`,
                Code.DeadlineExceeded,
              ),
            ),
          defaultDeadlineMs,
        );
    // req.signal aborts at the client's deadline, when the client goes away
    // and at the end of a shutdown, each with its ConnectError as reason.
    const signal = AbortSignal.any([req.signal, own.signal]);
    let onAbort = () => {};
    const ended = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(
          signal.reason instanceof ConnectError
            ? signal.reason
            : new ConnectError("the deadline passed", Code.DeadlineExceeded),
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await withCallDeadline(signal, () => Promise.race([next(req), ended]));
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
}

/** The metrics every call is counted in. */
export interface CallMetrics {
  calls: Counter<string>;
  duration: Histogram<string>;
}

/** One log line and one count per call, whoever saw it end (see also request-decoding.ts). */
export function recordCall(
  log: Logger,
  metrics: CallMetrics,
  call: { method: string; protocol: string | null; code: string; seconds: number; caller?: string },
): void {
  metrics.calls.inc({ method: call.method, code: call.code });
  metrics.duration.observe({ method: call.method }, call.seconds);
  log.info(
    {
      method: call.method,
      protocol: call.protocol,
      code: call.code,
      ms: Math.round(call.seconds * 1000),
      caller: call.caller,
    },
    "rpc",
  );
}

/**
 * Log every call and count it; turn stray exceptions into INTERNAL (logged
 * with their stack, sent without it) and database timeouts and outages into
 * DEADLINE_EXCEEDED and UNAVAILABLE.
 */
export function observeInterceptor(log: Logger, metrics: CallMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    const callError = (err: unknown): ConnectError => {
      if (err instanceof ConnectError) return err;
      const dbCode = databaseErrorCode(err);
      if (dbCode !== undefined) {
        log.warn({ method, err }, "database error");
        return new ConnectError(
          dbCode === Code.DeadlineExceeded ? "the database did not answer in time" : "the database is unavailable",
          dbCode,
        );
      }
      log.error({ method, err }, "unexpected error");
      return new ConnectError("internal error", Code.Internal);
    };
    const finish = (code: string) =>
      recordCall(log, metrics, {
        method,
        protocol: req.header.get("content-type"),
        code,
        seconds: (performance.now() - started) / 1000,
        caller: req.contextValues.get(callerKey)?.userId,
      });
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      const error = callError(err);
      finish(Code[error.code] ?? "unknown");
      throw error;
    }
    if (!res.stream) {
      finish("ok");
      return res;
    }
    // A stream's outcome is known when it ends, not when it starts.
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        // Left early: the client went away.
        let code = Code[Code.Canceled];
        try {
          yield* messages;
          code = "ok";
        } catch (err) {
          const error = callError(err);
          code = Code[error.code] ?? "unknown";
          throw error;
        } finally {
          finish(code);
        }
      })(),
    };
  };
}
