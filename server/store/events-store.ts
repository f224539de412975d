import type { Collection, Db, Filter } from "mongodb";
import { ObjectId } from "mongodb";
import { inBackground } from "../call-scope/background.js";
import { ensureIndexes, isDuplicateKeyError } from "./database.js";

/** Who made a change, as stored. */
export interface EventActorDocument {
  user_id: string;
  credential_kind: "api_key" | "login" | "password" | "system" | "anonymous";
  credential_id: string;
}

/** What an event says, without its sequence number. */
export interface EventRecord {
  name: string;
  time: Date;
  actor: EventActorDocument;
  user_ids: string[];
  paths: string[];
  object_ids: string[];
  request_id: string;
  client_address: string;
  user_agent: string;
  method: string;
}

/**
 * A recorded event. `_id` is its sequence number: an event is written by
 * inserting the next number, so an event is only ever visible after every
 * event with a smaller number (a stream that read up to n misses nothing
 * when it asks for > n later). `intent` (unique) makes recording an intent
 * idempotent: a recovery pass that repeats it finds it done.
 */
export interface EventDocument extends EventRecord {
  _id: number;
  intent: ObjectId;
  recovered: boolean;
  /** When it was recorded (later than `time` for a recovered event); retention counts from it. */
  recorded_at: Date;
}

/**
 * An event written before its change: it says what is about to change, so
 * that a process dying between the change and its event leaves something to
 * repair. Confirmed (turned into an EventDocument and removed) after the
 * change; removed when the change failed; checked by the recovery pass when
 * its process is gone (`lease_until` passed).
 */
export interface EventIntentDocument extends EventRecord {
  _id: ObjectId;
  lease_until: Date;
  /** The change is made by versioned updates only (see events/event-table.ts). */
  versioned: boolean;
}

/** Filters of List and Stream (names already turned into patterns). */
export interface EventQuery {
  userId?: string;
  actorUserId?: string;
  names?: RegExp[];
  since?: Date;
  until?: Date;
  /** Leave out events made by these users (webhooks' exclusions). */
  excludeActorUserIds?: string[];
  /** Leave out events made with these credentials (API key ids). */
  excludeCredentialIds?: string[];
}

export interface EventsStore {
  ensureIndexes(): Promise<void>;
  /** Write the intent of a change about to be made. */
  /** Its id (hex) at once, and the stored intent once it is written. */
  openIntent(
    record: EventRecord,
    leaseMs: number,
    versioned: boolean,
  ): { id: string; stored: Promise<EventIntentDocument> };
  /** Record the event of an intent (once, however often called) and close it. */
  confirm(intent: EventIntentDocument, recovered?: boolean): Promise<EventDocument>;
  /** Forget an intent whose change did not happen. */
  dropIntent(id: ObjectId): Promise<void>;
  /** Remove the intents of recorded events now rather than shortly. */
  flush(): Promise<void>;
  /** Intents whose lease has passed. */
  staleIntents(now: Date): Promise<EventIntentDocument[]>;
  /** Record an event that changes nothing else (a failed sign-in). */
  record(record: EventRecord): Promise<EventDocument>;
  /** Newest first, below `before` (a sequence number) when given. */
  list(query: EventQuery, options: { limit: number; skip: number; before?: number }): Promise<EventDocument[]>;
  /** Oldest first, after `after` (a sequence number), up to `upTo` (included) when given. */
  after(query: EventQuery, after: number, limit: number, upTo?: number): Promise<EventDocument[]>;
  /** The largest sequence number recorded, 0 when none. */
  lastId(): Promise<number>;
  /** Remove events older than `before`; returns how many. */
  sweep(before: Date): Promise<number>;
}

function queryFilter(query: EventQuery): Filter<EventDocument> {
  const filter: Filter<EventDocument> = {};
  if (query.userId) filter.user_ids = query.userId;
  if (query.actorUserId) filter["actor.user_id"] = query.actorUserId;
  if (query.names?.length) filter.$or = query.names.map((name) => ({ name }));
  if (query.excludeActorUserIds?.length) {
    filter["actor.user_id"] = query.actorUserId
      ? { $eq: query.actorUserId, $nin: query.excludeActorUserIds }
      : { $nin: query.excludeActorUserIds };
  }
  if (query.excludeCredentialIds?.length) filter["actor.credential_id"] = { $nin: query.excludeCredentialIds };
  if (query.since || query.until) {
    filter.time = {};
    if (query.since) filter.time.$gte = query.since;
    if (query.until) filter.time.$lt = query.until;
  }
  return filter;
}

export function createEventsStore(db: Db): EventsStore {
  const events: Collection<EventDocument> = db.collection<EventDocument>("events");
  const intents: Collection<EventIntentDocument> = db.collection<EventIntentDocument>("event_intents");

  // The last number this process saw taken, and when. Numbers are dense
  // (each is taken only after the one before it exists, and the sweep
  // never removes an event younger than a minute), so while this is recent
  // the next free number is this one plus one, or else taken, which the
  // unique _id says: one read less per event when one process records most.
  let known = { id: 0, at: 0 };
  const knownForMs = 5000;

  // This process takes numbers one at a time: concurrent calls would
  // otherwise all try the same one and all but one retry.
  let queue: Promise<unknown> = Promise.resolve();
  function insertNext(doc: Omit<EventDocument, "_id" | "recorded_at">): Promise<EventDocument> {
    const turn = queue.then(() => insertNextNow(doc));
    queue = turn.catch(() => {});
    return turn;
  }

  async function insertNextNow(doc: Omit<EventDocument, "_id" | "recorded_at">): Promise<EventDocument> {
    for (let attempt = 0; attempt < 100; attempt++) {
      let last = known.id;
      if (attempt > 0 || Date.now() - known.at > knownForMs) {
        const at = Date.now();
        last = (await events.find({}, { projection: { _id: 1 }, sort: { _id: -1 }, limit: 1 }).next())?._id ?? 0;
        known = { id: last, at };
      }
      const next: EventDocument = { ...doc, _id: last + 1, recorded_at: new Date() };
      try {
        const at = Date.now();
        await events.insertOne(next);
        if (next._id > known.id) known = { id: next._id, at };
        return next;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        // Either another event took the number (try the next one) or this
        // intent was recorded already (by a recovery pass).
        const done = await events.findOne({ intent: doc.intent });
        if (done) return done;
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
    throw new Error("could not record an event: too much contention");
  }

  // Intents whose events are recorded, removed together, off the call's
  // path; one left by a crash is removed by the recovery pass (whose
  // confirm finds the event already there).
  let closed: ObjectId[] = [];
  let closing: NodeJS.Timeout | undefined;
  const removeClosed = async () => {
    closing = undefined;
    const batch = closed;
    closed = [];
    if (batch.length) await intents.deleteMany({ _id: { $in: batch } }).catch(() => {});
  };

  return {
    async ensureIndexes() {
      await ensureIndexes(events, [
        { key: { intent: 1 }, name: "intent_1", unique: true },
        { key: { user_ids: 1, _id: -1 }, name: "user_ids_1__id_-1" },
        { key: { "actor.user_id": 1, _id: -1 }, name: "actor.user_id_1__id_-1" },
        { key: { time: 1 }, name: "time_1" },
        { key: { recorded_at: 1 }, name: "recorded_at_1" },
      ]);
      await ensureIndexes(intents, [{ key: { lease_until: 1 }, name: "lease_until_1" }]);
    },
    openIntent(record, leaseMs, versioned) {
      const doc: EventIntentDocument = {
        _id: new ObjectId(),
        ...record,
        lease_until: new Date(Date.now() + leaseMs),
        versioned,
      };
      return { id: doc._id.toHexString(), stored: intents.insertOne(doc).then(() => doc) };
    },
    async confirm(intent, recovered = false) {
      const { _id, lease_until: _lease, versioned: _versioned, ...record } = intent;
      const done = await insertNext({ ...record, intent: _id, recovered });
      closed.push(_id);
      // Not bound to this call: its end would abort the removal.
      closing ??= inBackground(() => setTimeout(removeClosed, 200).unref());
      return done;
    },
    flush() {
      if (closing) clearTimeout(closing);
      return removeClosed();
    },
    async dropIntent(id) {
      await intents.deleteOne({ _id: id });
    },
    staleIntents(now) {
      return intents.find({ lease_until: { $lt: now } }, { sort: { _id: 1 }, limit: 1000 }).toArray();
    },
    record(record) {
      return insertNext({ ...record, intent: new ObjectId(), recovered: false });
    },
    list(query, options) {
      const filter = queryFilter(query);
      if (options.before !== undefined) filter._id = { $lt: options.before };
      return events.find(filter, { sort: { _id: -1 }, skip: options.skip, limit: options.limit }).toArray();
    },
    after(query, after, limit, upTo) {
      const range = upTo === undefined ? { $gt: after } : { $gt: after, $lte: upTo };
      return events.find({ ...queryFilter(query), _id: range }, { sort: { _id: 1 }, limit }).toArray();
    },
    async lastId() {
      const last = await events.find({}, { projection: { _id: 1 }, sort: { _id: -1 }, limit: 1 }).next();
      return last?._id ?? 0;
    },
    async sweep(before) {
      // The newest event stays, whatever its age: it carries the sequence
      // on; and none younger than a minute goes (see `known` above).
      const last = await events.find({}, { projection: { _id: 1 }, sort: { _id: -1 }, limit: 1 }).next();
      if (!last) return 0;
      const limit = new Date(Math.min(before.getTime(), Date.now() - 60_000));
      return (await events.deleteMany({ recorded_at: { $lt: limit }, _id: { $lt: last._id } })).deletedCount;
    },
  };
}
