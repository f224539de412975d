import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  type Event,
  type EventFilter,
  EventSchema,
  type Events,
  ListEventsResponseSchema,
  StreamEventsResponseSchema,
} from "../../gen/roster/v1/events_pb.js";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { errEmailNamesAdminOnly, errMissingRight, errUserNotFound, invalidArgument } from "../../shared/errors.js";
import { holds, requireCaller } from "../access/caller.js";
import { maxLimit, type Paginator } from "../requests/pagination.js";
import type { EventDocument, EventQuery } from "../store/events-store.js";
import type { Store } from "../store/store.js";

export interface EventsDeps {
  store: Store;
  paginator: Paginator;
  /** How often a stream looks for new events (default 250 ms). */
  pollIntervalMs?: number;
}

export function eventFromDocument(doc: EventDocument): Event {
  return create(EventSchema, {
    id: String(doc._id),
    name: doc.name,
    time: timestampFromDate(doc.time),
    actor: {
      userId: doc.actor.user_id,
      credentialKind: doc.actor.credential_kind,
      credentialId: doc.actor.credential_id,
    },
    userIds: doc.user_ids,
    paths: doc.paths,
    objectIds: doc.object_ids,
    requestId: doc.request_id,
    clientAddress: doc.client_address,
    userAgent: doc.user_agent,
    method: doc.method,
    recovered: doc.recovered,
  });
}

/** An event name pattern, as filters and webhooks take them. */
export const namePattern = /^[a-z0-9_.*]{1,100}$/;

/** `user.*` -> /^user\..*$/: only `*` is special. */
export function namePatternOf(name: string): RegExp {
  return new RegExp(
    `^${name
      .split("*")
      .map((part) => part.replace(/[.]/g, "\\."))
      .join(".*")}$`,
  );
}

function parseId(text: string, field: string): number {
  if (!/^\d{1,15}$/.test(text)) throw invalidArgument([{ field, description: "must be an event id" }]);
  return Number(text);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Events.List and Events.Stream. Admins (RIGHT_ADMIN_USERS_READ) read every
 * event; anybody else only the events about themself, whatever they ask.
 */
export function eventsService(deps: EventsDeps): ServiceImpl<typeof Events> {
  const { store } = deps;
  const pollMs = deps.pollIntervalMs ?? 250;

  async function queryOf(filter: EventFilter | undefined, ctx: HandlerContext): Promise<EventQuery> {
    const caller = requireCaller(ctx);
    const admin = holds(caller, Right.ADMIN_USERS_READ);
    let userId = filter?.userId ?? "";
    if (userId.includes("@")) {
      // Streams are not resolved by the auth interceptor.
      const [user] = await store.users.getMany([], [userId], []);
      if (!admin && user?.user_id !== caller.userId) throw errEmailNamesAdminOnly({ email: userId });
      if (!user) throw errUserNotFound({ user_id: userId });
      userId = String(user.user_id);
    }
    if (!admin) {
      if (userId && userId !== caller.userId) throw errMissingRight({ right: "RIGHT_ADMIN_USERS_READ" });
      userId = caller.userId;
    }
    const names = filter?.names ?? [];
    if (names.length > 20) throw invalidArgument([{ field: "filter.names", description: "at most 20 names" }]);
    for (const name of names) {
      if (!namePattern.test(name)) {
        throw invalidArgument([{ field: "filter.names", description: `"${name}" is not an event name pattern` }]);
      }
    }
    return {
      userId: userId || undefined,
      actorUserId: filter?.actorUserId || undefined,
      names: names.map(namePatternOf),
      since: filter?.since ? timestampDate(filter.since) : undefined,
      until: filter?.until ? timestampDate(filter.until) : undefined,
    };
  }

  return {
    async list(req, ctx) {
      const query = await queryOf(req.filter, ctx);
      const fingerprint = JSON.stringify({ ...query, names: query.names?.map(String) });
      const page = deps.paginator.parse({ ...req, order: "" }, ["id"] as const, fingerprint);
      const before = page.after ? Number(page.after.value) : undefined;
      const docs = await store.events.list(query, { limit: page.limit + 1, skip: page.skip, before });
      const more = docs.length > page.limit;
      const shown = docs.slice(0, page.limit);
      const last = shown.at(-1);
      return create(ListEventsResponseSchema, {
        events: shown.map(eventFromDocument),
        nextPageToken:
          more && last
            ? deps.paginator.nextToken({ field: "id", descending: false }, fingerprint, last._id, "", 0)
            : "",
      });
    },

    async *stream(req, ctx) {
      const query = await queryOf(req.filter, ctx);
      if (req.tail < 0) throw invalidArgument([{ field: "tail", description: "must not be negative" }]);
      let cursor: number;
      if (req.afterId) {
        cursor = parseId(req.afterId, "after_id");
      } else {
        cursor = await store.events.lastId();
        if (req.tail > 0) {
          const tail = await store.events.list(query, {
            limit: Math.min(req.tail, maxLimit),
            skip: 0,
            before: cursor + 1,
          });
          for (const doc of tail.reverse()) yield create(StreamEventsResponseSchema, { event: eventFromDocument(doc) });
        }
      }
      while (!ctx.signal.aborted) {
        const batch = await store.events.after(query, cursor, 100);
        for (const doc of batch) {
          cursor = doc._id;
          yield create(StreamEventsResponseSchema, { event: eventFromDocument(doc) });
        }
        if (batch.length < 100) await sleep(pollMs, ctx.signal);
      }
    },
  };
}
