import type { Collection, Db, Filter } from "mongodb";
import { ensureIndexes } from "./database.js";
import { createQueueStore, type QueuedDocument, type QueueStore } from "./queue-store.js";
import { versionedUpdate, type WriteLockDocument, writeLocksCollection } from "./write-locks.js";

/** A registered endpoint. Written only through versioned updates (claims.ts). */
export interface WebhookDocument {
  _id: string;
  url: string;
  /** Event name patterns (`user.*`). */
  names: string[];
  exclude_actor_user_ids: string[];
  exclude_actor_api_key_ids: string[];
  description: string;
  disabled: boolean;
  /** Why the server disabled it; empty when an admin did. */
  disabled_reason: string;
  disabled_at: Date | null;
  /** The signing secret (`whsec_...`), sealed (secret-box.ts); never shown again, never logged. */
  sealed_secret: string;
  /** Which key sealed it; only instances holding that key deliver. */
  key_id: string;
  /** Events after this one are delivered: the last one recorded when the webhook was made. */
  start_event_id: number;
  created_at: Date;
  created_by: string;
  updated_at: Date;
  revision: number;
}

/**
 * What changes with every delivery, apart from the webhook's settings (so
 * that neither write waits for the other): how far the dispatcher got, and
 * how deliveries fare. Plain `$set`s: a lost race only delays a count, and
 * a cursor set by anybody is safe (see webhook-dispatcher.ts).
 */
export interface WebhookStateDocument {
  _id: string;
  /** Every event up to this id has its delivery queued. */
  cursor: number;
  consecutive_failures: number;
  /** The first failed attempt since the last success. */
  failing_since: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
}

/** One event for one webhook, queued (a durable queue, like emails). */
export interface WebhookDeliveryDocument extends QueuedDocument {
  webhook_id: string;
  /** The event; null for a test delivery. */
  event_id: number | null;
  event_name: string;
  /** The payload, as sent on every attempt (events hold no secret). */
  body: string;
  /** A test delivery: sent to a disabled webhook too, and not counted in its health. */
  test: boolean;
  last_response_code: number;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
}

/** The delivery of event `eventId` to `webhookId`: one id, so that queueing it twice queues it once. */
export function deliveryId(webhookId: string, eventId: number): string {
  return `wd_${webhookId}_${eventId}`;
}

export interface WebhooksStore {
  ensureIndexes(): Promise<void>;
  insert(doc: WebhookDocument): Promise<void>;
  get(id: string): Promise<WebhookDocument | null>;
  list(page: { skip: number; limit: number }): Promise<{ webhooks: WebhookDocument[]; total: number }>;
  /** Every webhook that is not disabled. */
  enabled(): Promise<WebhookDocument[]>;
  /** Change a webhook; `change` returns the next version, or undefined for none. */
  update(
    id: string,
    change: (current: WebhookDocument) => WebhookDocument | undefined,
    missing: () => Error,
  ): Promise<{ before: WebhookDocument; after: WebhookDocument }>;
  /** Remove a webhook, its state and its deliveries; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** States by webhook id (missing ones are not there). */
  states(ids: string[]): Promise<Map<string, WebhookStateDocument>>;
  /** Every event up to `cursor` has its delivery queued. */
  advance(id: string, cursor: number): Promise<void>;
  recordSuccess(id: string, at: Date): Promise<void>;
  /** Forget the failures counted so far (the webhook was enabled again). */
  resetFailures(id: string): Promise<void>;
  /** Count a failed attempt; the state after it. */
  recordFailure(id: string, at: Date): Promise<WebhookStateDocument | null>;
  deliveries: QueueStore<WebhookDeliveryDocument>;
  listDeliveries(
    webhookId: string,
    status: WebhookDeliveryDocument["status"] | undefined,
    page: { skip: number; limit: number },
  ): Promise<{ deliveries: WebhookDeliveryDocument[]; total: number }>;
  /** Make the pending deliveries of a webhook due now (it was enabled again). */
  resumeDeliveries(webhookId: string): Promise<void>;
}

export function createWebhooksStore(db: Db): WebhooksStore {
  const webhooks: Collection<WebhookDocument> = db.collection<WebhookDocument>("webhooks");
  const states: Collection<WebhookStateDocument> = db.collection<WebhookStateDocument>("webhook_state");
  const writeLocks: Collection<WriteLockDocument> = writeLocksCollection(db);
  const deliveries = createQueueStore<WebhookDeliveryDocument>(db, "webhook_deliveries", "webhook_deliveries", [
    { key: { webhook_id: 1, created_at: -1 }, name: "webhook_id_1_created_at_-1" },
  ]);
  const busy = () => new Error("the webhook is being changed by another call; retry");
  return {
    deliveries,
    async ensureIndexes() {
      await ensureIndexes(webhooks, [{ key: { created_at: -1 }, name: "created_at_-1" }]);
      await deliveries.ensureIndexes();
    },
    async insert(doc) {
      await webhooks.insertOne(doc);
    },
    get: (id) => webhooks.findOne({ _id: id }),
    async list(page) {
      const [docs, total] = await Promise.all([
        webhooks.find({}, { sort: { created_at: -1, _id: 1 }, skip: page.skip, limit: page.limit }).toArray(),
        webhooks.countDocuments({}),
      ]);
      return { webhooks: docs, total };
    },
    enabled: () => webhooks.find({ disabled: false }).toArray(),
    update(id, change, missing) {
      return versionedUpdate<WebhookDocument>({
        collection: webhooks,
        writeLocks,
        scope: "webhooks",
        load: () => webhooks.findOne({ _id: id }),
        change,
        missing,
        busy,
      });
    },
    async delete(id) {
      const { deletedCount } = await webhooks.deleteOne({ _id: id });
      await states.deleteOne({ _id: id });
      await deliveries.collection.deleteMany({ webhook_id: id });
      return deletedCount > 0;
    },
    async states(ids) {
      const docs = await states.find({ _id: { $in: ids } }).toArray();
      return new Map(docs.map((d) => [d._id, d]));
    },
    async advance(id, cursor) {
      await states.updateOne({ _id: id }, { $set: { cursor } }, { upsert: true });
    },
    async recordSuccess(id, at) {
      await states.updateOne(
        { _id: id },
        { $set: { consecutive_failures: 0, failing_since: null, last_success_at: at } },
        { upsert: true },
      );
    },
    async resetFailures(id) {
      await states.updateOne({ _id: id }, { $set: { consecutive_failures: 0, failing_since: null } }, { upsert: true });
    },
    async recordFailure(id, at) {
      await states.updateOne(
        { _id: id },
        { $inc: { consecutive_failures: 1 }, $set: { last_failure_at: at } },
        { upsert: true },
      );
      const state = await states.findOne({ _id: id });
      if (state && !state.failing_since) {
        await states.updateOne({ _id: id, failing_since: null }, { $set: { failing_since: at } });
        state.failing_since = at;
      }
      return state;
    },
    async listDeliveries(webhookId, status, page) {
      const filter: Filter<WebhookDeliveryDocument> = { webhook_id: webhookId };
      if (status) filter.status = status;
      const [docs, total] = await Promise.all([
        deliveries.collection
          .find(filter, { sort: { created_at: -1, _id: -1 }, skip: page.skip, limit: page.limit })
          .toArray(),
        deliveries.collection.countDocuments(filter),
      ]);
      return { deliveries: docs as WebhookDeliveryDocument[], total };
    },
    async resumeDeliveries(webhookId) {
      await deliveries.collection.updateMany(
        { webhook_id: webhookId, status: "pending", lease_until: null },
        { $set: { next_attempt_at: new Date() } },
      );
    },
  };
}
