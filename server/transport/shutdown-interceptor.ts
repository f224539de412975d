import type { Interceptor } from "@connectrpc/connect";

/** The two moments of a shutdown, as abort signals whose reason is the error calls get. */
export interface ShutdownSignals {
  /** SIGTERM: server streams end now (an export resumes elsewhere with `after_user_id`). */
  streams: AbortSignal;
  /** The end of the grace period: unary calls still running are answered. */
  calls: AbortSignal;
}

/** `promise`, or the signal's reason once it aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    if (signal.aborted) abort();
    // Handled even when the signal wins: the promise usually rejects too (its
    // handler sees the same signal), and an unhandled rejection would end the
    // process before the stream's trailers leave.
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", abort);
        reject(err);
      },
    );
  });
}

/** The messages of a stream until `signal` aborts; then the stream ends with its reason. */
async function* untilAborted<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const it = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await unlessAborted(it.next(), signal);
      if (next.done) return;
      yield next.value;
    }
  } catch (err) {
    // Whatever the handler threw as it was cut off, the caller learns why.
    throw signal.aborted ? signal.reason : err;
  } finally {
    // Not awaited: a handler stuck in a database call would hold the stream.
    it.return?.().catch(() => {});
  }
}

/**
 * End calls with the shutdown's error (UNAVAILABLE) instead of letting the
 * listener reset their connections: server streams at once, with a proper
 * end of stream, unary calls when the grace period ends. Handlers see the
 * abort in their signal. Health Watch streams are left alone: they end by
 * themselves with NOT_SERVING, which tells a load balancer more.
 */
export function shutdownInterceptor(signals: ShutdownSignals): Interceptor {
  return (next) => async (req) => {
    if (!req.stream)
      return unlessAborted(next({ ...req, signal: AbortSignal.any([req.signal, signals.calls]) }), signals.calls);
    const stop = req.service.typeName === "grpc.health.v1.Health" ? signals.calls : signals.streams;
    const signal = AbortSignal.any([req.signal, stop]);
    const res = await unlessAborted(next({ ...req, signal }), stop);
    return res.stream ? { ...res, message: untilAborted(res.message, stop) } : res;
  };
}
