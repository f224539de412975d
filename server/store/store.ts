import { randomBytes } from "node:crypto";
import { ObjectId } from "mongodb";
import { noteWrite } from "../call-scope/change-scope.js";
import { type AgreementsStore, createAgreementsStore } from "./agreements-store.js";
import { type ConnectOptions, connectDatabase, type Database, isDuplicateKeyError, pingDatabase } from "./database.js";
import { createEmailQueueStore, type EmailQueueStore } from "./email-queue-store.js";
import { createEventsStore, type EventsStore } from "./events-store.js";
import { createInvitationsStore, type InvitationsStore } from "./invitations-store.js";
import { createLoginAttemptsStore, type LoginAttemptsStore } from "./login-attempts-store.js";
import { createOneTimeTokensStore, type OneTimeTokensStore } from "./one-time-tokens-store.js";
import { createOperationsStore, type OperationsStore } from "./operations-store.js";
import { createRequestCountsStore, type RequestCountsStore } from "./request-counts-store.js";
import { createSettingsStore, type SettingsStore } from "./settings-store.js";
import { createTokenRequestsStore, type TokenRequestsStore } from "./token-requests-store.js";
import { createTokensStore, type TokensStore } from "./tokens-store.js";
import { createUsersBulkStore, type UsersBulkStore } from "./users-bulk-store.js";
import { createUsersStore, type UsersStore } from "./users-store.js";
import { createWebhooksStore, type WebhooksStore } from "./webhooks-store.js";
import { sweepWriteLocks, writeLocksCollection, writeLocksLanded } from "./write-locks.js";

/** Everything the registries need from the database. */
export interface Store {
  users: UsersStore;
  tokens: TokensStore;
  tokenRequests: TokenRequestsStore;
  loginAttempts: LoginAttemptsStore;
  /** Tokens of self-service links (password reset, email validation). */
  oneTimeTokens: OneTimeTokensStore;
  /** Recent requests per address and client, for throttling self-service email. */
  requestCounts: RequestCountsStore;
  invitations: InvitationsStore;
  events: EventsStore;
  /**
   * Whether the change of an event intent landed, judged by the versioned
   * updates it made (see write-locks.ts); undefined when it made none.
   */
  changeLanded(intent: string): Promise<boolean | undefined>;
  emails: EmailQueueStore;
  /** Webhooks, their dispatch state and their queued deliveries. */
  webhooks: WebhooksStore;
  /** Journals of Rename and Merge, for finishing them after a crash. */
  operations: OperationsStore;
  /** Per-user settings, keyed by the user's ref (no index beyond `_id`). */
  settings: SettingsStore;
  /** Export and import of many users (on the users collection and its indexes). */
  usersBulk: UsersBulkStore;
  /** User agreements, and who was set up and accepted which (keyed by `_id` only). */
  agreements: AgreementsStore;
  /** Create every index; the server is not ready before this resolves. */
  ensureIndexes(): Promise<void>;
  /**
   * A number that grows after every write this process made to users or
   * tokens: what was read before it changed may be stale (see
   * access/caller-cache.ts).
   */
  credentialsGeneration(): number;
  /** Whether the database answers. */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * A random key shared by every server instance on this database, made on
   * first use (page-token signatures).
   */
  secret(name: string): Promise<Buffer>;
  /** Remove expired records; returns counts by kind. */
  sweep(now: Date): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The collections whose writes can change who a token's holder is or what it may do. */
const credentialCollections = new Set(["users", "tokens"]);

export async function openStore(uri: string, options: ConnectOptions = {}): Promise<Store> {
  let generation = 0;
  const database: Database = await connectDatabase(uri, {
    ...options,
    onWrite: (collection) => {
      if (credentialCollections.has(collection)) generation++;
      noteWrite(collection);
      options.onWrite?.(collection);
    },
  });
  const users = createUsersStore(database.db);
  const tokens = createTokensStore(database.db);
  const tokenRequests = createTokenRequestsStore(database.db);
  const loginAttempts = createLoginAttemptsStore(database.db);
  const invitations = createInvitationsStore(database.db);
  const oneTimeTokens = createOneTimeTokensStore(database.db);
  const requestCounts = createRequestCountsStore(database.db);
  const emails = createEmailQueueStore(database.db);
  const settings = createSettingsStore(database.db);
  const operations = createOperationsStore(database.db);
  const usersBulk = createUsersBulkStore(database.db);
  const agreements = createAgreementsStore(database.db);
  const writeLocks = writeLocksCollection(database.db);
  const events = createEventsStore(database.db);
  const webhooks = createWebhooksStore(database.db);
  const db = database.db;
  const secrets = database.db.collection<{ _id: string; key: string }>("secrets");
  return {
    users,
    tokens,
    tokenRequests,
    loginAttempts,
    oneTimeTokens,
    requestCounts,
    invitations,
    emails,
    events,
    webhooks,
    changeLanded: (intent) =>
      writeLocksLanded(writeLocks, intent, async (scope, id) => {
        if (scope === "users" && ObjectId.isValid(id)) {
          const docs = await db
            .collection<{ revision: number }>("users")
            .find({ ref: new ObjectId(id) }, { projection: { revision: 1 } })
            .toArray();
          return docs.length ? Math.max(...docs.map((d) => d.revision)) : null;
        }
        if (scope === "tokens" && ObjectId.isValid(id)) {
          const doc = await db
            .collection<{ revision: number }>("tokens")
            .findOne({ _id: new ObjectId(id) }, { projection: { revision: 1 } });
          return doc ? doc.revision : null;
        }
        return undefined;
      }),
    operations,
    settings,
    usersBulk,
    agreements,
    async ensureIndexes() {
      await users.ensureIndexes();
      await tokens.ensureIndexes();
      await tokenRequests.ensureIndexes();
      await loginAttempts.ensureIndexes();
      await invitations.ensureIndexes();
      await oneTimeTokens.ensureIndexes();
      await requestCounts.ensureIndexes();
      await emails.ensureIndexes();
      await operations.ensureIndexes();
      await events.ensureIndexes();
      await webhooks.ensureIndexes();
    },
    credentialsGeneration: () => generation,
    ping: (timeoutMs) => pingDatabase(database, timeoutMs),
    async secret(name) {
      try {
        await secrets.insertOne({ _id: name, key: randomBytes(32).toString("base64") });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      const doc = await secrets.findOne({ _id: name });
      if (!doc) throw new Error(`secret ${name} vanished`);
      return Buffer.from(doc.key, "base64");
    },
    async sweep(now) {
      return {
        tokens: await tokens.sweepExpired(now),
        login_attempts: await loginAttempts.sweep(new Date(now.getTime() - 7 * 86_400_000)),
        invitations_expired: await invitations.sweepExpired(now),
        one_time_tokens: await oneTimeTokens.sweep(now),
        request_counts: await requestCounts.sweep(new Date(now.getTime() - 86_400_000)),
        emails: await emails.sweep(new Date(now.getTime() - 7 * 86_400_000)),
        webhook_deliveries: await webhooks.deliveries.sweep(new Date(now.getTime() - 7 * 86_400_000)),
        write_locks: await sweepWriteLocks(writeLocks),
        operations: await operations.sweep(new Date(now.getTime() - 7 * 86_400_000)),
      };
    },
    close: () => database.client.close(),
  };
}
