import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type Webhook,
  type WebhookDelivery,
  WebhookDeliverySchema,
  WebhookDeliveryStatus,
  WebhookSchema,
  type Webhooks,
} from "../../gen/roster/v1/webhooks_pb.js";
import {
  errReadOnlyFieldPaths,
  errUnknownFieldPaths,
  errWebhookKeyMissing,
  errWebhookNotFound,
  type FieldViolation,
  invalidArgument,
} from "../../shared/errors.js";
import { requireCaller } from "../access/caller.js";
import { namePattern } from "../events/events-service.js";
import { offsetPage } from "../requests/pagination.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { isRecordId, newRecordId } from "../secrets/token-format.js";
import type { Store } from "../store/store.js";
import type { WebhookDeliveryDocument, WebhookDocument, WebhookStateDocument } from "../store/webhooks-store.js";
import { userIdProblem } from "../validation/user-validation.js";
import { type WebhookDelivery as Delivery, newWebhookSecret } from "./webhook-delivery.js";

export interface WebhooksDeps {
  store: Store;
  box: SecretBox;
  delivery: Delivery;
  /** Accept http:// endpoints. */
  allowHttp: boolean;
}

const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

export function webhookFromDocument(doc: WebhookDocument, state: WebhookStateDocument | undefined): Webhook {
  return create(WebhookSchema, {
    id: doc._id,
    url: doc.url,
    names: doc.names,
    excludeActorUserIds: doc.exclude_actor_user_ids,
    excludeActorApiKeyIds: doc.exclude_actor_api_key_ids,
    description: doc.description,
    disabled: doc.disabled,
    disabledReason: doc.disabled_reason,
    disabledAt: ts(doc.disabled_at),
    consecutiveFailures: state?.consecutive_failures ?? 0,
    lastSuccessAt: ts(state?.last_success_at),
    lastFailureAt: ts(state?.last_failure_at),
    createdAt: ts(doc.created_at),
    createdBy: doc.created_by,
    updatedAt: ts(doc.updated_at),
  });
}

const statusNames = {
  pending: WebhookDeliveryStatus.PENDING,
  sent: WebhookDeliveryStatus.DELIVERED,
  failed: WebhookDeliveryStatus.FAILED,
} as const;

export function deliveryFromDocument(doc: WebhookDeliveryDocument): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    id: doc._id,
    webhookId: doc.webhook_id,
    eventId: doc.event_id === null ? "" : String(doc.event_id),
    eventName: doc.event_name,
    status: statusNames[doc.status],
    attempts: doc.attempts,
    lastResponseCode: doc.last_response_code,
    lastError: doc.last_error,
    createdAt: ts(doc.created_at),
    lastAttemptAt: ts(doc.last_attempt_at),
    nextAttemptAt: doc.status === "pending" ? ts(doc.next_attempt_at) : undefined,
    deliveredAt: ts(doc.delivered_at),
  });
}

/** The fields an Update may change. */
const updatable = [
  "url",
  "names",
  "exclude_actor_user_ids",
  "exclude_actor_api_key_ids",
  "description",
  "disabled",
] as const;
const readOnly = [
  "id",
  "disabled_reason",
  "disabled_at",
  "consecutive_failures",
  "last_success_at",
  "last_failure_at",
  "created_at",
  "created_by",
  "updated_at",
];
const maxNames = 20;
const maxExclusions = 100;

/** The settings of a webhook, checked; every problem is reported at once. */
function checked(given: Webhook | undefined, paths: readonly string[], allowHttp: boolean) {
  const problems: FieldViolation[] = [];
  const add = (field: string, description: string) => problems.push({ field: `webhook.${field}`, description });
  const w = given ?? create(WebhookSchema);
  if (paths.includes("url")) {
    let url: URL | undefined;
    try {
      url = new URL(w.url);
    } catch {
      add("url", "must be an absolute URL");
    }
    if (url && url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) {
      add(
        "url",
        allowHttp
          ? "must be an http:// or https:// URL"
          : "must be an https:// URL (http:// needs --webhook-allow-http)",
      );
    }
  }
  if (paths.includes("names")) {
    if (w.names.length === 0) add("names", "name at least one event name pattern, such as user.* (or * for all)");
    if (w.names.length > maxNames) add("names", `at most ${maxNames} patterns`);
    for (const name of w.names) {
      if (!namePattern.test(name)) add("names", `"${name}" is not an event name pattern (a-z, 0-9, _, ., *)`);
    }
  }
  if (paths.includes("exclude_actor_user_ids")) {
    if (w.excludeActorUserIds.length > maxExclusions) add("exclude_actor_user_ids", `at most ${maxExclusions}`);
    for (const id of w.excludeActorUserIds) {
      const problem = userIdProblem(id);
      if (problem) add("exclude_actor_user_ids", `"${id}" ${problem}`);
    }
  }
  if (paths.includes("exclude_actor_api_key_ids")) {
    if (w.excludeActorApiKeyIds.length > maxExclusions) add("exclude_actor_api_key_ids", `at most ${maxExclusions}`);
    for (const id of w.excludeActorApiKeyIds) {
      if (!isRecordId("ak", id)) add("exclude_actor_api_key_ids", `"${id}" is not an API key id (ak...)`);
    }
  }
  if (problems.length > 0) throw invalidArgument(problems);
  return w;
}

/**
 * Webhooks: registration (Create, List, Get, Update, Delete), test
 * deliveries and the deliveries' state. Delivering is webhook-delivery.ts.
 */
export function webhooksService(deps: WebhooksDeps): ServiceImpl<typeof Webhooks> {
  const { store } = deps;

  async function find(id: string): Promise<WebhookDocument> {
    const doc = id ? await store.webhooks.get(id) : null;
    if (!doc) throw errWebhookNotFound({ id });
    return doc;
  }

  async function shown(doc: WebhookDocument): Promise<Webhook> {
    return webhookFromDocument(doc, (await store.webhooks.states([doc._id])).get(doc._id));
  }

  return {
    async create(req, ctx) {
      const caller = requireCaller(ctx);
      const w = checked(
        req.webhook,
        ["url", "names", "exclude_actor_user_ids", "exclude_actor_api_key_ids"],
        deps.allowHttp,
      );
      const secret = newWebhookSecret();
      const now = new Date();
      const doc: WebhookDocument = {
        _id: newRecordId("wh"),
        url: w.url,
        names: [...new Set(w.names)],
        exclude_actor_user_ids: [...new Set(w.excludeActorUserIds)],
        exclude_actor_api_key_ids: [...new Set(w.excludeActorApiKeyIds)],
        description: w.description,
        disabled: w.disabled,
        disabled_reason: "",
        disabled_at: w.disabled ? now : null,
        sealed_secret: deps.box.seal(secret),
        key_id: deps.box.keyId,
        // Events recorded from now on are delivered.
        start_event_id: await store.events.lastId(),
        created_at: now,
        created_by: caller.userId,
        updated_at: now,
        revision: 1,
      };
      await store.webhooks.insert(doc);
      return { webhook: webhookFromDocument(doc, undefined), secret };
    },

    async list(req, ctx: HandlerContext) {
      const page = offsetPage(req);
      const { webhooks, total } = await store.webhooks.list(page);
      const states = await store.webhooks.states(webhooks.map((w) => w._id));
      ctx.responseHeader.set("x-total-count", String(total));
      return {
        webhooks: webhooks.map((w) => webhookFromDocument(w, states.get(w._id))),
        totalSize: BigInt(total),
      };
    },

    async get(req) {
      return { webhook: await shown(await find(req.id)) };
    },

    async update(req) {
      const id = req.webhook?.id ?? "";
      const paths = [...new Set(req.updateMask?.paths ?? [])];
      const fixed = paths.filter((p) => readOnly.includes(p));
      if (fixed.length > 0) throw errReadOnlyFieldPaths({ paths: fixed.join(", ") });
      const unknown = paths.filter((p) => !(updatable as readonly string[]).includes(p));
      if (unknown.length > 0) throw errUnknownFieldPaths({ paths: unknown.join(", ") });
      const w = checked(req.webhook, paths, deps.allowHttp);
      await find(id);
      const now = new Date();
      const { before, after } = await store.webhooks.update(
        id,
        (current) => {
          if (paths.length === 0) return undefined;
          const next = { ...current, updated_at: now };
          if (paths.includes("url")) next.url = w.url;
          if (paths.includes("names")) next.names = [...new Set(w.names)];
          if (paths.includes("exclude_actor_user_ids"))
            next.exclude_actor_user_ids = [...new Set(w.excludeActorUserIds)];
          if (paths.includes("exclude_actor_api_key_ids")) {
            next.exclude_actor_api_key_ids = [...new Set(w.excludeActorApiKeyIds)];
          }
          if (paths.includes("description")) next.description = w.description;
          if (paths.includes("disabled") && w.disabled !== current.disabled) {
            next.disabled = w.disabled;
            next.disabled_reason = "";
            next.disabled_at = w.disabled ? now : null;
          }
          return next;
        },
        () => errWebhookNotFound({ id }),
      );
      if (before.disabled && !after.disabled) {
        // Enabled again: its failures are forgiven, and what waits goes now.
        await store.webhooks.resetFailures(id);
        await store.webhooks.resumeDeliveries(id);
        void deps.delivery.dispatch().catch(() => 0);
      }
      return { webhook: await shown(after) };
    },

    async delete(req) {
      if (!req.id || !(await store.webhooks.delete(req.id))) throw errWebhookNotFound({ id: req.id });
      return {};
    },

    async test(req) {
      const hook = await find(req.id);
      if (hook.key_id !== deps.box.keyId) throw errWebhookKeyMissing({ id: hook._id });
      return { delivery: deliveryFromDocument(await deps.delivery.test(hook)) };
    },

    async listDeliveries(req, ctx: HandlerContext) {
      await find(req.webhookId);
      const page = offsetPage(req);
      const status =
        req.status === WebhookDeliveryStatus.PENDING
          ? "pending"
          : req.status === WebhookDeliveryStatus.DELIVERED
            ? "sent"
            : req.status === WebhookDeliveryStatus.FAILED
              ? "failed"
              : undefined;
      const { deliveries, total } = await store.webhooks.listDeliveries(req.webhookId, status, page);
      ctx.responseHeader.set("x-total-count", String(total));
      return { deliveries: deliveries.map(deliveryFromDocument), totalSize: BigInt(total) };
    },
  };
}
