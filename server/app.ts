import { setMaxListeners } from "node:events";
import { join } from "node:path";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { clientAddressKey } from "./access/caller.js";
import { createCallerCache } from "./access/caller-cache.js";
import { isCommonPassword } from "./access/common-passwords.js";
import { createLoginService } from "./access/login.js";
import { createLoginThrottle } from "./access/login-throttle.js";
import { createPasswordHasher } from "./access/passwords.js";
import type { Config } from "./config.js";
import { databaseUri } from "./database/database-uri.js";
import { createEmailQueue } from "./email/email-queue.js";
import { createMailTransport } from "./email/mailer.js";
import { eventInterceptor, recordedService, recordOwnChange } from "./events/event-interceptor.js";
import { createPaginator } from "./requests/pagination.js";
import type { Logger } from "./runtime/log.js";
import { createMetrics } from "./runtime/metrics.js";
import { projectRoot } from "./runtime/paths.js";
import { scimService } from "./scim/scim-service.js";
import { createSecretBox, loadSecretKey } from "./secrets/secret-box.js";
import { type LinkOptions, type PublicUrl, pagePaths } from "./self-service/links.js";
import { serviceRoutes, services } from "./service-routes.js";
import { startUp } from "./start-up.js";
import { watchDatabaseHealth } from "./store/database-health.js";
import { openStore, type Store } from "./store/store.js";
import { startSweeper } from "./sweeper.js";
import { createHealthStatus, ServingStatus } from "./transport/health.js";
import { httpHandler } from "./transport/http-handler.js";
import { authInterceptor, deadlineInterceptor, observeInterceptor, recordCall } from "./transport/interceptors.js";
import { listen } from "./transport/listener.js";
import { readinessInterceptor } from "./transport/readiness-interceptor.js";
import { requestCheckInterceptor } from "./transport/request-check.js";
import { acceptCompression, withRequestDecoding } from "./transport/request-decoding.js";
import { shutdownInterceptor } from "./transport/shutdown-interceptor.js";
import { userRegistry } from "./users/user-registry.js";
import { createWebhookDelivery } from "./webhooks/webhook-delivery.js";

/** A running server. */
export interface RunningServer {
  /** host:port it listens on. */
  address: string;
  store: Store;
  /**
   * Graceful stop within --shutdown-timeout: NOT_SERVING, end streams,
   * finish (or answer) in-flight calls, close, stop the embedded database.
   * Rejects when the time is up.
   */
  stop(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  // The embedded database's supervisor reports a death at once (the pings
  // would notice within a second, but a quick restart might beat them).
  let databaseDied = () => {};
  const { uri, embedded } = await databaseUri(config, (msg) => log.info(msg), { onExit: () => databaseDied() });
  const store = await openStore(uri, {
    onCommand: config.logDatabaseCommands ? (summary) => log.info({ db: summary }, "database command") : undefined,
  });
  const metrics = createMetrics();
  const health = createHealthStatus(services.map((s) => s.typeName));
  // Shutdown in two steps (see shutdownInterceptor): streams end at SIGTERM,
  // unary calls at the end of the grace period.
  const streamsShutdown = new AbortController();
  const shutdown = new AbortController();
  // Every call in flight listens to both: many listeners are no leak.
  setMaxListeners(0, streamsShutdown.signal, shutdown.signal);
  let ready = false;
  // SERVING needs both: start-up done, and the database answering its pings.
  const showHealth = () => {
    if (health.closing) return;
    health.set(ready && databaseHealth.reachable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  };
  const databaseHealth = watchDatabaseHealth(uri, {
    onChange(reachable) {
      if (reachable) log.info("database answers");
      else log.warn("database does not answer; NOT_SERVING until it does");
      showHealth();
    },
  });
  databaseDied = () => databaseHealth.lost();

  const hasher = createPasswordHasher(config.hashParameters, config.hashConcurrency);
  const login = await createLoginService({
    store,
    hasher,
    throttle: createLoginThrottle(store.loginAttempts, config.throttle),
    tokenTtlMs: config.loginTokenTtlMs,
  });
  const box = createSecretBox(loadSecretKey(config.secretKey, join(config.dataDir, "secret.key")));
  const mail = createEmailQueue({
    store: store.emails,
    transport: createMailTransport({ ...config.email, outboxDir: join(config.dataDir, "outbox") }),
    box,
    log,
    pollIntervalMs: config.email.pollIntervalMs,
    maxAttempts: config.email.maxAttempts,
    retryDelayMs: config.email.retryDelayMs,
  });
  const webhookDelivery = createWebhookDelivery({ store, box, mail, log, settings: config.webhooks });
  // The paginator key comes from the database, so it is set once it answers.
  let paginator = createPaginator(Buffer.alloc(32));

  // Without --public-url, links follow the address the server listens on
  // (which, for --listen host:0, is known only once it listens).
  let boundUrl = config.publicUrl;
  const urls: PublicUrl = {
    get publicUrl() {
      return boundUrl;
    },
  };
  const links: LinkOptions = {
    store,
    mail,
    urls,
    passwordResetTtlMs: config.selfService.passwordResetTtlMs,
    emailValidationTtlMs: config.selfService.emailValidationTtlMs,
  };

  const eventOptions = {
    leaseMs: config.eventLeaseMs,
    defaultDeadlineMs: config.defaultDeadlineMs,
    maxDeadlineMs: config.maxDeadlineMs,
    log,
  };
  // One registry serves the gRPC API and SCIM, so that both write alike.
  const users = userRegistry({
    store,
    mail,
    registration: { mode: config.registration, approval: config.registrationApproval },
    get paginator() {
      return paginator;
    },
    hasher,
    passwordPolicy: config.passwordPolicy,
    isCommonPassword,
    log,
    restoreWindowMs: config.restoreWindowMs,
    defaultDeadlineMs: config.defaultDeadlineMs,
    urls,
    links,
  });

  const routes = serviceRoutes({
    config,
    store,
    mail,
    login,
    hasher,
    box,
    webhookDelivery,
    health,
    urls,
    links,
    get paginator() {
      return paginator;
    },
    users,
    log,
  });

  // Unknown JSON fields and enum names are refused, as the protobuf JSON
  // mapping does by default (connect-es ignores them): ignored, a mistyped
  // `userID` or `RIGHT_ADMN_ALL` would silently mean something else.
  const jsonOptions = { ignoreUnknownFields: false };
  const rpc = connectNodeAdapter({
    routes: withRequestDecoding(routes, {
      readMaxBytes: config.maxRequestBytes,
      jsonOptions,
      onRefused: ({ method, protocol, error, ms }) =>
        recordCall(log, metrics, { method, protocol, code: Code[error.code] ?? "unknown", seconds: ms / 1000 }),
    }),
    jsonOptions,
    acceptCompression,
    contextValues: (req) => createContextValues().set(clientAddressKey, req.socket?.remoteAddress ?? ""),
    readMaxBytes: config.maxRequestBytes,
    maxTimeoutMs: config.maxDeadlineMs,
    shutdownSignal: shutdown.signal,
    interceptors: [
      observeInterceptor(log, metrics),
      shutdownInterceptor({ streams: streamsShutdown.signal, calls: shutdown.signal }),
      readinessInterceptor(
        () => ready,
        () => databaseHealth.reachable,
      ),
      deadlineInterceptor(config.defaultDeadlineMs),
      authInterceptor(store, createCallerCache(config.credentialCacheMs, store.credentialsGeneration)),
      requestCheckInterceptor(),
      ...(config.recordEvents ? [eventInterceptor(store, eventOptions)] : []),
    ],
  });
  const listener = await listen(
    config.listen,
    httpHandler({
      rpc,
      corsOrigins: config.corsOrigins,
      metrics: metrics.registry,
      health,
      consoleDir: join(projectRoot, "dist", "web"),
      publicPages: Object.values(pagePaths),
      scim: scimService({
        store,
        // SCIM's changes are events like the API's.
        registry: config.recordEvents ? recordedService(UserRegistry, users, store, eventOptions) : users,
        record: config.recordEvents ? recordOwnChange(store, eventOptions) : (_ctx, _change, run) => run(),
        publicUrl: config.publicUrl,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        maxRequestBytes: config.maxRequestBytes,
        defaultDeadlineMs: config.defaultDeadlineMs,
        isReady: () => ready,
        log,
      }),
    }),
    { idleTimeoutMs: config.idleTimeoutMs },
  );
  if (!config.publicUrlGiven) boundUrl = `http://${listener.address}`;
  log.info(
    {
      address: listener.address,
      database: embedded?.kind ?? "mongodb",
      email: config.email.smtpUrl ? "smtp" : "outbox",
    },
    "listening",
  );

  const becomeReady = startUp({
    store,
    databaseHealth,
    bootstrapAdmin: config.bootstrapAdmin,
    log,
    signal: shutdown.signal,
    setPaginator: (p) => {
      paginator = p;
    },
    onReady: () => {
      ready = true;
      mail.start();
      webhookDelivery.start();
      showHealth();
      log.info("serving");
    },
  });

  const stopSweeper = startSweeper(store, log, {
    intervalMs: config.sweepIntervalMs,
    eventRetentionMs: config.eventRetentionMs,
    isReady: () => ready,
  });

  return {
    address: listener.address,
    store,
    async stop() {
      // The whole shutdown takes at most --shutdown-timeout. Calls may run
      // until 5 s before its end (half of it, when shorter than 10 s); the
      // rest is for closing the database, even one that does not answer.
      const started = Date.now();
      const callsMs = config.shutdownTimeoutMs - Math.min(5000, config.shutdownTimeoutMs / 2);
      const unavailable = new ConnectError("the server is shutting down; retry on another instance", Code.Unavailable);
      stopSweeper();
      ready = false;
      health.shutdown();
      streamsShutdown.abort(unavailable);
      const steps = (async () => {
        await listener.close(callsMs, () => shutdown.abort(unavailable));
        shutdown.abort(unavailable);
        await becomeReady;
        await webhookDelivery.stop();
        await mail.stop();
        await store.events.flush();
        await databaseHealth.stop();
        await store.close();
        await embedded?.stop();
      })();
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms`)),
          Math.max(0, config.shutdownTimeoutMs - (Date.now() - started)),
        );
      });
      try {
        await Promise.race([steps, limit]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
