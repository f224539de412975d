import { type Collection, type Db, type Document, type IndexDescription, MongoClient, MongoServerError } from "mongodb";
import { beforeWrite } from "../call-scope/change-scope.js";
import { callSignal } from "../call-scope/deadline.js";

/** An open connection to the database, and the name of the database used. */
export interface Database {
  client: MongoClient;
  db: Db;
}

/**
 * What a database command asked for, without its filter values (which may
 * hold personal data): for debugging projections, sorts and deadlines.
 */
export interface CommandSummary {
  command: string;
  collection?: string;
  projection?: Record<string, unknown>;
  sort?: Record<string, unknown>;
  limit?: number;
  maxTimeMS?: number;
}

export interface ConnectOptions {
  /** Called for every command sent (enables command monitoring). */
  onCommand?: (summary: CommandSummary) => void;
  /**
   * Called after every write to a collection (when the write has been
   * answered, or has failed), with the collection's name.
   */
  onWrite?: (collection: string) => void;
}

/**
 * Connect to MongoDB (or FerretDB). The database name comes from the URI's
 * path and defaults to `roster`.
 */
export async function connectDatabase(uri: string, options: ConnectOptions = {}): Promise<Database> {
  const client = new MongoClient(uri, {
    monitorCommands: options.onCommand !== undefined,
    // The server is stateless; a small pool per process keeps FerretDB's
    // SQLite backend from queueing too many writers at once.
    maxPoolSize: 50,
    appName: "roster",
    // Calls are bounded by their own deadlines (see boundedByCallDeadline);
    // this only bounds work outside calls (start-up, sweeps, the mail queue).
    serverSelectionTimeoutMS: 10_000,
  });
  if (options.onCommand) {
    const report = options.onCommand;
    client.on("commandStarted", (event) => {
      const c = event.command as Record<string, unknown>;
      report({
        command: event.commandName,
        collection: typeof c[event.commandName] === "string" ? (c[event.commandName] as string) : undefined,
        projection: c.projection as Record<string, unknown> | undefined,
        sort: c.sort as Record<string, unknown> | undefined,
        limit: c.limit as number | undefined,
        maxTimeMS: c.maxTimeMS as number | undefined,
      });
    });
  }
  // No connect() here: the driver connects on first use, so a server can
  // start (NOT_SERVING) while its database is still coming up.
  const db = client.db(new URL(uri.replace(/^mongodb(\+srv)?:/, "http:")).pathname.slice(1) || "roster");
  return { client, db: boundedByCallDeadline(db, options.onWrite) };
}

/**
 * Where the options argument of each driver method that takes an abort
 * `signal` is (the driver's writes take none).
 */
const abortableMethods: Record<string, number> = {
  find: 1,
  findOne: 1,
  countDocuments: 1,
  aggregate: 1,
  distinct: 2,
  estimatedDocumentCount: 0,
};

/** The driver's methods that write documents. */
const writeMethods = new Set([
  "insertOne",
  "insertMany",
  "updateOne",
  "updateMany",
  "replaceOne",
  "deleteOne",
  "deleteMany",
  "findOneAndUpdate",
  "findOneAndReplace",
  "findOneAndDelete",
  "bulkWrite",
]);

/**
 * `db`, whose collections give every read the current call's deadline
 * signal (`callSignal()`), so that a read stops waiting (for a server, a
 * connection or an answer) when the caller's deadline passes, without every
 * store method passing it along. The driver ignores `timeoutMS` since
 * version 7, so the deadline is a client-side abort. Writes are reported to
 * `onWrite` once they are answered.
 */
function boundedByCallDeadline(db: Db, onWrite?: (collection: string) => void): Db {
  const collection = db.collection.bind(db);
  const bounded = <T extends Document>(name: string, options?: Parameters<Db["collection"]>[1]): Collection<T> =>
    new Proxy(collection<T>(name, options), {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof key === "string" && writeMethods.has(key) && typeof value === "function") {
          return (...args: unknown[]) => {
            const write = () => (value.apply(target, args) as Promise<unknown>).finally(() => onWrite?.(name));
            const ready = beforeWrite(name);
            return ready ? ready.then(write) : write();
          };
        }
        const at = typeof key === "string" ? abortableMethods[key] : undefined;
        if (at === undefined || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const signal = callSignal();
          if (signal) {
            const given = args[at] as Document | undefined;
            while (args.length < at) args.push(undefined);
            args[at] = given?.signal ? given : { ...given, signal };
          }
          return value.apply(target, args);
        };
      },
    });
  return new Proxy(db, {
    get: (target, key, receiver) => (key === "collection" ? bounded : Reflect.get(target, key, receiver)),
  });
}

/** Whether the database answers a ping within `timeoutMs`. */
export async function pingDatabase(database: Database, timeoutMs = 2000): Promise<boolean> {
  try {
    await database.db.command({ ping: 1 }, { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `err` is a duplicate-key error of a unique index. FerretDB 1.24
 * answers an update that breaks a unique index with code 1 (InternalError)
 * and SQLite's message instead of code 11000.
 */
export function isDuplicateKeyError(err: unknown): err is MongoServerError {
  return (
    err instanceof MongoServerError &&
    (err.code === 11000 || (err.code === 1 && /UNIQUE constraint failed/.test(err.message)))
  );
}

/**
 * The field of the unique index a duplicate-key error is about, when the
 * server says (MongoDB does in `keyPattern`; FerretDB 1.x does not, so
 * callers must then find out by looking).
 */
export function duplicateKeyField(err: MongoServerError): string | undefined {
  const pattern = err.keyPattern as Record<string, unknown> | undefined;
  return pattern ? Object.keys(pattern)[0] : undefined;
}

/**
 * Create indexes one call per index. FerretDB 1.24 panics (and drops the
 * connection) when one createIndexes command names several indexes that
 * already exist, which is every start after the first. Indexes an earlier
 * version created and this one no longer wants (`retired`) are dropped.
 */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  indexes: readonly IndexDescription[],
  options: { retired?: readonly string[] } = {},
): Promise<void> {
  if (options.retired?.length) {
    const existing = await collection
      .listIndexes()
      .toArray()
      .catch((err) => {
        // A collection that does not exist yet has no indexes to retire.
        if (err instanceof MongoServerError && err.code === 26) return [];
        throw err;
      });
    for (const index of existing) {
      if (options.retired.includes(index.name)) await collection.dropIndex(index.name);
    }
  }
  for (const index of indexes) await collection.createIndexes([index]);
}
