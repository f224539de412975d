import { setMaxListeners } from "node:events";
import { join } from "node:path";
import { Code, ConnectError, type ConnectRouter, createContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import * as reflectionV1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Events } from "../gen/roster/v1/events_pb.js";
import { InvitationRegistry } from "../gen/roster/v1/invitation_registry_pb.js";
import { SelfService } from "../gen/roster/v1/self_service_pb.js";
import { UserAccess } from "../gen/roster/v1/user_access_pb.js";
import { UserAgreements } from "../gen/roster/v1/user_agreements_pb.js";
import { UserBulk } from "../gen/roster/v1/user_bulk_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { UserSettings } from "../gen/roster/v1/user_settings_pb.js";
import { Webhooks } from "../gen/roster/v1/webhooks_pb.js";
import { clientAddressKey } from "./access/caller.js";
import { createCallerCache } from "./access/caller-cache.js";
import { isCommonPassword } from "./access/common-passwords.js";
import { createLoginService } from "./access/login.js";
import { createLoginThrottle } from "./access/login-throttle.js";
import { createPasswordHasher } from "./access/passwords.js";
import { ensureSystemUser } from "./access/system-user.js";
import { userAccess } from "./access/user-access.js";
import { userAgreements } from "./agreements/user-agreements.js";
import { userBulk } from "./bulk/user-bulk.js";
import type { Config } from "./config.js";
import { databaseUri } from "./database/database-uri.js";
import { createEmailQueue } from "./email/email-queue.js";
import { createMailTransport } from "./email/mailer.js";
import { eventInterceptor, recordedService, recordOwnChange } from "./events/event-interceptor.js";
import { recoverEvents } from "./events/event-recovery.js";
import { eventsService } from "./events/events-service.js";
import { invitationRegistry } from "./invitations/invitation-registry.js";
import { createPaginator } from "./requests/pagination.js";
import type { Logger } from "./runtime/log.js";
import { createMetrics } from "./runtime/metrics.js";
import { projectRoot } from "./runtime/paths.js";
import { scimService } from "./scim/scim-service.js";
import { createSecretBox, loadSecretKey } from "./secrets/secret-box.js";
import { type LinkOptions, type PublicUrl, pagePaths, pageUrl } from "./self-service/links.js";
import { selfService } from "./self-service/self-service.js";
import { userSettings } from "./settings/user-settings.js";
import { watchDatabaseHealth } from "./store/database-health.js";
import { openStore, type Store } from "./store/store.js";
import { createHealthStatus, healthService, ServingStatus } from "./transport/health.js";
import { httpHandler } from "./transport/http-handler.js";
import { authInterceptor, deadlineInterceptor, observeInterceptor, recordCall } from "./transport/interceptors.js";
import { listen } from "./transport/listener.js";
import { loadFileRegistry, reflectionServiceV1, reflectionServiceV1alpha } from "./transport/reflection.js";
import { requestCheckInterceptor } from "./transport/request-check.js";
import { acceptCompression, withRequestDecoding } from "./transport/request-decoding.js";
import { shutdownInterceptor } from "./transport/shutdown-interceptor.js";
import { bootstrapAdmin } from "./users/bootstrap-admin.js";
import { operationLeaseMs, recoverOperations } from "./users/operation-recovery.js";
import { userRegistry } from "./users/user-registry.js";
import { createWebhookDelivery } from "./webhooks/webhook-delivery.js";
import { webhooksService } from "./webhooks/webhooks-service.js";

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

/** The services this server exposes, as reflection lists them. */
const services = [
  UserRegistry,
  UserAccess,
  InvitationRegistry,
  UserSettings,
  UserAgreements,
  UserBulk,
  SelfService,
  Events,
  Webhooks,
  Health,
  reflectionV1.ServerReflection,
  reflectionV1alpha.ServerReflection,
] as const;

/**
 * Refuse RPCs (other than health and reflection) at once while the server is
 * not ready or its database does not answer pings, instead of letting them
 * wait for a database that is not there.
 */
function readinessInterceptor(isReady: () => boolean, databaseReachable: () => boolean): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName.startsWith("roster.")) {
      if (!isReady()) throw new ConnectError("the server is starting or stopping; retry shortly", Code.Unavailable);
      if (!databaseReachable()) throw new ConnectError("the database is unreachable; retry shortly", Code.Unavailable);
    }
    return next(req);
  };
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
  const fileRegistry = loadFileRegistry();
  const serviceNames = services.map((s) => s.typeName);
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

  const routes = (router: ConnectRouter) => {
    router.service(Health, healthService(health));
    router.service(reflectionV1.ServerReflection, reflectionServiceV1(fileRegistry, serviceNames));
    router.service(reflectionV1alpha.ServerReflection, reflectionServiceV1alpha(fileRegistry, serviceNames));
    router.service(UserRegistry, users);
    router.service(
      UserAccess,
      userAccess({
        store,
        mail,
        login,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        defaultDeadlineMs: config.defaultDeadlineMs,
      }),
    );
    router.service(
      InvitationRegistry,
      invitationRegistry({
        store,
        mail,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        registration: config.registration,
        invitationTtlMs: config.invitationTtlMs,
        registerUrl: (token) => pageUrl(urls, pagePaths.register, token, "invitation"),
        defaultDeadlineMs: config.defaultDeadlineMs,
      }),
    );
    router.service(
      SelfService,
      selfService({
        ...links,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        registration: { mode: config.registration, approval: config.registrationApproval },
        limits: config.selfService,
        log,
      }),
    );
    router.service(UserSettings, userSettings({ store, defaultDeadlineMs: config.defaultDeadlineMs }));
    router.service(UserAgreements, userAgreements({ store, defaultDeadlineMs: config.defaultDeadlineMs }));
    router.service(UserBulk, userBulk({ store, defaultDeadlineMs: config.defaultDeadlineMs }));
    router.service(
      Events,
      eventsService({
        store,
        get paginator() {
          return paginator;
        },
      }),
    );
    router.service(
      Webhooks,
      webhooksService({ store, box, delivery: webhookDelivery, allowHttp: config.webhooks.allowHttp }),
    );
  };

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

  // Become ready once the database answers and every index exists; until
  // then health says NOT_SERVING and RPCs get UNAVAILABLE.
  const becomeReady = (async () => {
    for (let attempt = 0; !shutdown.signal.aborted; attempt++) {
      try {
        const answering = Date.now() + 5000;
        while (!databaseHealth.reachable && Date.now() < answering) await new Promise((r) => setTimeout(r, 50));
        if (!databaseHealth.reachable) throw new Error("database does not answer");
        await store.ensureIndexes();
        paginator = createPaginator(await store.secret("page_tokens"));
        await ensureSystemUser(store);
        // Renames and merges that a crash interrupted are finished before serving.
        await recoverOperations(store, log);
        // Events of changes a crash interrupted, once their lease has passed.
        await recoverEvents(store, log);
        if (config.bootstrapAdmin && !(await store.users.any())) {
          const admin = await bootstrapAdmin(store, { userId: "admin", email: "admin@localhost" });
          // Printed for the operator, once, outside the structured log.
          process.stderr.write(
            `\nCreated admin user "${admin.userId}". Its API key, shown only now:\n\n  ${admin.apiKey}\n\n` +
              `Use it with: export ROSTER_API_KEY=<the key>\n\n`,
          );
        }
        ready = true;
        mail.start();
        webhookDelivery.start();
        showHealth();
        log.info("serving");
        return;
      } catch (err) {
        log.warn({ err, attempt }, "database not ready; retrying");
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
      }
    }
  })();

  const sweeper = setInterval(() => {
    if (!ready) return;
    recoverOperations(store, log, { olderThanMs: operationLeaseMs }).catch((err) =>
      log.warn({ err }, "finishing interrupted operations failed"),
    );
    recoverEvents(store, log).catch((err) => log.warn({ err }, "settling event intents failed"));
    store.events
      .sweep(new Date(Date.now() - config.eventRetentionMs))
      .catch((err) => log.warn({ err }, "sweeping events failed"));
    store.sweep(new Date()).then(
      (counts) => log.debug({ counts }, "swept"),
      (err) => log.warn({ err }, "sweep failed"),
    );
  }, config.sweepIntervalMs);
  sweeper.unref();

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
      clearInterval(sweeper);
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
