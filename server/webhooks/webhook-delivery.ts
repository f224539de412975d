import { randomBytes } from "node:crypto";
import { toJson } from "@bufbuild/protobuf";
import { Webhook as Signer } from "standardwebhooks";
import { EventSchema } from "../../gen/roster/v1/events_pb.js";
import { inBackground } from "../call-scope/background.js";
import type { EmailQueue } from "../email/email-queue.js";
import { eventFromDocument, namePatternOf } from "../events/events-service.js";
import { type AttemptOutcome, createQueueWorker, type Settled } from "../queue/queue-worker.js";
import { failpoint } from "../runtime/failpoints.js";
import type { Logger } from "../runtime/log.js";
import type { SecretBox } from "../secrets/secret-box.js";
import type { EventDocument, EventQuery } from "../store/events-store.js";
import type { Store } from "../store/store.js";
import { systemUserId } from "../store/user-documents.js";
import { deliveryId, type WebhookDeliveryDocument, type WebhookDocument } from "../store/webhooks-store.js";
import { adminAddresses } from "../user-changes/user-notices.js";

/** How webhooks deliver (see the --webhook-* options). */
export interface WebhookSettings {
  /** Accept http:// endpoints (tests, private networks); otherwise only https://. */
  allowHttp: boolean;
  /** Wait before the first retry; doubles per attempt, at most an hour. */
  retryDelayMs: number;
  /** Attempts before a delivery is given up. */
  maxAttempts: number;
  /** A webhook is disabled after this many failed attempts in a row ... */
  disableAfterFailures: number;
  /** ... that went on for at least this long without a success. */
  disableAfterMs: number;
  /** How long one attempt may take, answer included. */
  timeoutMs: number;
  /** How often the dispatcher looks for new events and the worker for due deliveries. */
  pollIntervalMs: number;
}

export interface WebhookDeliveryOptions {
  store: Store;
  box: SecretBox;
  mail: EmailQueue;
  log: Logger;
  settings: WebhookSettings;
}

/**
 * Webhook deliveries: a dispatcher that turns recorded events into queued
 * deliveries, and a worker of the durable queue (queue/queue-worker.ts,
 * as emails use) that sends them.
 */
export interface WebhookDelivery {
  /** Queue the deliveries of the events recorded since the last round (also runs on a timer). */
  dispatch(): Promise<number>;
  /** Queue a `webhook.test` delivery and attempt it now; the delivery after its first attempt. */
  test(webhook: WebhookDocument): Promise<WebhookDeliveryDocument>;
  /** Attempt what is due now. */
  deliverDue(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Events read per query while catching up. */
const batchSize = 200;
/** How long a worker holds a delivery: well above an attempt's timeout. */
const leaseMsFor = (timeoutMs: number) => Math.max(2 * 60_000, 2 * timeoutMs + 60_000);
/** How soon a delivery of a disabled webhook is looked at again. */
const pausedRecheckMs = 60_000;
/** How much of an endpoint's answer is kept, as the reason of a failure. */
const answerChars = 200;

/** The events a webhook takes, as an events query. */
export function webhookQuery(
  hook: Pick<WebhookDocument, "names" | "exclude_actor_user_ids" | "exclude_actor_api_key_ids">,
): EventQuery {
  return {
    names: hook.names.map(namePatternOf),
    excludeActorUserIds: hook.exclude_actor_user_ids,
    excludeCredentialIds: hook.exclude_actor_api_key_ids,
  };
}

/** A Standard Webhooks payload: `type`, `timestamp` and the event as the API shows it. */
export function eventPayload(event: EventDocument): string {
  return JSON.stringify({
    type: event.name,
    timestamp: event.time.toISOString(),
    data: toJson(EventSchema, eventFromDocument(event)),
  });
}

/** Where an endpoint is, for people: without credentials or query, which may hold secrets. */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The start of an answer's body, read no further (an endpoint may answer with anything). */
async function answerOf(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < answerChars * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // What was read is enough.
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, answerChars).replace(/\s+/g, " ").trim();
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "TimeoutError" || err.name === "AbortError") return "no answer in time";
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code
    ? `${err.message}: ${cause.code}`
    : cause?.message
      ? `${err.message}: ${cause.message}`
      : err.message;
}

export function createWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const { store, box, log, settings } = options;
  let timer: NodeJS.Timeout | undefined;
  let dispatching: Promise<number> | undefined;

  async function send(delivery: WebhookDeliveryDocument): Promise<AttemptOutcome<WebhookDeliveryDocument>> {
    const hook = await store.webhooks.get(delivery.webhook_id);
    if (!hook) return { ok: false, final: true, error: "the webhook was deleted" };
    if (hook.disabled && !delivery.test) return { ok: false, postpone: new Date(Date.now() + pausedRecheckMs) };
    const attemptAt = new Date();
    // Signed anew on every attempt: receivers refuse old timestamps.
    const signature = new Signer(box.open(hook.sealed_secret)).sign(delivery._id, attemptAt, delivery.body);
    try {
      const res = await fetch(hook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Roster-Webhooks/1",
          "webhook-id": delivery._id,
          "webhook-timestamp": String(Math.floor(attemptAt.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: delivery.body,
        // A redirect is an answer that is not 2xx: the endpoint should be registered where it is.
        redirect: "manual",
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      const answer = await answerOf(res);
      const set = { last_response_code: res.status, last_attempt_at: attemptAt };
      if (res.status >= 200 && res.status < 300) return { ok: true, set: { ...set, delivered_at: new Date() } };
      return { ok: false, error: `HTTP ${res.status}${answer ? `: ${answer}` : ""}`, set };
    } catch (err) {
      return { ok: false, error: reasonOf(err), set: { last_response_code: 0, last_attempt_at: attemptAt } };
    }
  }

  /** After a failed attempt: disable the webhook when it has failed long enough, once, and tell the admins. */
  async function judge(hookId: string, error: string) {
    const now = new Date();
    const state = await store.webhooks.recordFailure(hookId, now);
    if (!state?.failing_since) return;
    if (state.consecutive_failures < settings.disableAfterFailures) return;
    if (now.getTime() - state.failing_since.getTime() < settings.disableAfterMs) return;
    const reason = `${state.consecutive_failures} delivery attempts failed in a row since ${state.failing_since.toISOString()}; the last: ${error}`;
    const { before, after } = await store.webhooks.update(
      hookId,
      (current) =>
        current.disabled
          ? undefined
          : { ...current, disabled: true, disabled_reason: reason.slice(0, 500), disabled_at: now, updated_at: now },
      () => new Error("the webhook was deleted"),
    );
    // Only the call that made the change tells (versioned updates have one winner).
    if (before.disabled || !after.disabled) return;
    log.warn({ webhook: hookId, failures: state.consecutive_failures }, "webhook disabled after repeated failures");
    await store.events
      .record({
        name: "webhook.disable",
        time: now,
        actor: { user_id: systemUserId, credential_kind: "system", credential_id: "" },
        user_ids: [],
        paths: ["disabled"],
        object_ids: [hookId],
        request_id: `webhook-${hookId}-${now.getTime()}`,
        client_address: "",
        user_agent: "",
        method: "",
      })
      .catch((err) => log.warn({ err }, "could not record the event of a disabled webhook"));
    for (const to of await adminAddresses(store)) {
      await options.mail.enqueue(to, {
        kind: "webhook_disabled",
        webhookId: hookId,
        endpoint: endpointOf(after.url),
        failures: state.consecutive_failures,
        since: state.failing_since,
        lastError: error,
      });
    }
  }

  async function settled({ entry, status, attempts, outcome }: Settled<WebhookDeliveryDocument>) {
    const fields = { webhook: entry.webhook_id, delivery: entry._id, event: entry.event_name, attempts };
    if (status === "sent") {
      log.info(fields, "webhook delivered");
      if (!entry.test) await store.webhooks.recordSuccess(entry.webhook_id, new Date());
      return;
    }
    log.warn({ ...fields, failed: status === "failed", reason: outcome.error }, "webhook not delivered");
    if (!entry.test && !outcome.final) await judge(entry.webhook_id, outcome.error ?? "");
  }

  const worker = createQueueWorker<WebhookDeliveryDocument>({
    name: "webhook delivery",
    store: store.webhooks.deliveries,
    keyId: box.keyId,
    log,
    pollIntervalMs: settings.pollIntervalMs,
    maxAttempts: settings.maxAttempts,
    retryDelayMs: settings.retryDelayMs,
    leaseMs: leaseMsFor(settings.timeoutMs),
    // One slow endpoint must not hold up the others.
    concurrency: 8,
    attempt: send,
    settled: (result) =>
      settled(result).catch((err) => log.warn({ err, webhook: result.entry.webhook_id }, "webhook bookkeeping failed")),
  });

  function newDelivery(
    hook: WebhookDocument,
    id: string,
    fields: Pick<WebhookDeliveryDocument, "event_id" | "event_name" | "body" | "test">,
  ): WebhookDeliveryDocument {
    const now = new Date();
    return {
      _id: id,
      webhook_id: hook._id,
      ...fields,
      status: "pending",
      attempts: 0,
      next_attempt_at: now,
      lease_until: null,
      key_id: hook.key_id,
      created_at: now,
      last_error: "",
      last_response_code: 0,
      last_attempt_at: null,
      delivered_at: null,
      revision: 1,
    };
  }

  /**
   * One round of the dispatcher. Each webhook has a cursor: the id of the
   * last event whose delivery is queued. Events are numbered densely in
   * the order they become visible (events-store.ts), so reading the
   * webhook's events after its cursor, up to the last id recorded, misses
   * none; each becomes a delivery whose id is made of the webhook's and
   * the event's (so queueing it again, after a crash before the cursor
   * moved, or from another process doing the same round, queues nothing);
   * then the cursor moves. Whoever sets a cursor has queued everything up
   * to it, so a cursor set by a slower process is never ahead of what is
   * queued: nothing is lost, whichever process dies when.
   */
  async function dispatchRound(): Promise<number> {
    const hooks = (await store.webhooks.enabled()).filter((h) => h.key_id === box.keyId);
    if (hooks.length === 0) return 0;
    const last = await store.events.lastId();
    const states = await store.webhooks.states(hooks.map((h) => h._id));
    let queued = 0;
    for (const hook of hooks) {
      let cursor = states.get(hook._id)?.cursor ?? hook.start_event_id;
      const query = webhookQuery(hook);
      while (cursor < last) {
        const batch = await store.events.after(query, cursor, batchSize, last);
        failpoint("webhook:enqueue");
        for (const event of batch) {
          const delivery = newDelivery(hook, deliveryId(hook._id, event._id), {
            event_id: event._id,
            event_name: event.name,
            body: eventPayload(event),
            test: false,
          });
          if (await store.webhooks.deliveries.enqueue(delivery)) queued++;
        }
        failpoint("webhook:cursor");
        cursor = batch.length < batchSize ? last : (batch.at(-1) as EventDocument)._id;
        await store.webhooks.advance(hook._id, cursor);
      }
    }
    return queued;
  }

  const delivery: WebhookDelivery = {
    dispatch() {
      dispatching ??= inBackground(dispatchRound)
        .then((queued) => {
          if (queued > 0) {
            log.debug({ queued }, "webhook deliveries queued");
            void worker.deliverDue();
          }
          return queued;
        })
        .finally(() => {
          dispatching = undefined;
        });
      return dispatching;
    },

    async test(hook) {
      const id = `wd_${hook._id}_test_${randomBytes(6).toString("hex")}`;
      const now = new Date();
      const body = JSON.stringify({
        type: "webhook.test",
        timestamp: now.toISOString(),
        data: { webhookId: hook._id, message: "A test delivery from Roster." },
      });
      await store.webhooks.deliveries.enqueue(
        newDelivery(hook, id, { event_id: null, event_name: "webhook.test", body, test: true }),
      );
      let current = await worker.deliverNow(id);
      // Another worker may have leased it first: wait for its first attempt.
      const deadline = Date.now() + settings.timeoutMs + 5000;
      while (current && current.attempts === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        current = await store.webhooks.deliveries.get(id);
      }
      if (!current) throw new Error("the test delivery vanished");
      return current;
    },

    deliverDue: () => worker.deliverDue(),

    start() {
      timer = setInterval(() => {
        delivery.dispatch().catch((err) => log.warn({ err }, "webhook dispatch failed"));
      }, settings.pollIntervalMs);
      timer.unref();
      worker.start();
    },

    async stop() {
      clearInterval(timer);
      await dispatching?.catch(() => 0);
      await worker.stop();
    },
  };
  return delivery;
}
