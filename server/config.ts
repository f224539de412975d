import { resolve } from "node:path";
import yargs from "yargs";
import { parseDuration } from "../shared/duration.js";
import type { ThrottlePolicy } from "./access/login-throttle.js";
import type { HashParameters, PasswordPolicy } from "./access/passwords.js";
import { configOptions } from "./config-options.js";
import { passwordMaxChars } from "./requests/request-rules.js";
import type { SelfServiceLimits } from "./self-service/self-service.js";
import type { WebhookSettings } from "./webhooks/webhook-delivery.js";

/** Server configuration, from flags, `ROSTER_*` variables and a config file. */
export interface Config {
  /** host:port of the one listener for gRPC, gRPC-Web and Connect. */
  listen: string;
  /** MongoDB URI; without it an embedded database is started. */
  mongodbUri: string | undefined;
  /** Folder for the embedded database, the outbox and other state. */
  dataDir: string;
  /** Folder for the FerretDB build. */
  cacheDir: string;
  logLevel: string;
  /** How long a deleted user can be restored. */
  restoreWindowMs: number;
  /** Deadline of calls whose client set none. */
  defaultDeadlineMs: number;
  /** How long a resolved token may be reused without reading it again (see access/caller-cache.ts); 0: never. */
  credentialCacheMs: number;
  /** Largest deadline a client may ask for. */
  maxDeadlineMs: number;
  /** Largest request message accepted. */
  maxRequestBytes: number;
  /** Origins allowed by CORS; `*` allows any. */
  corsOrigins: string[];
  /** Create an `admin` user with a fresh API key on a first start with an empty database. */
  bootstrapAdmin: boolean;
  /** Longest shutdown after SIGTERM (see RunningServer.stop). */
  shutdownTimeoutMs: number;
  /** Close connections idle this long (see ListenOptions). */
  idleTimeoutMs: number;
  /** How often the sweeper removes expired records. */
  sweepIntervalMs: number;
  /** Record events (default true); off only to measure what they cost (bench/events-cost.ts). */
  recordEvents: boolean;
  /** How long events are kept (default 90 days). */
  eventRetentionMs: number;
  /**
   * How long after a change's deadline the recovery pass decides, from the
   * database, whether it happened and records or drops its event (default
   * 1 minute: far above the time a last write in flight takes, so that a
   * live change is never judged).
   */
  eventLeaseMs: number;
  /** How long login tokens live. */
  loginTokenTtlMs: number;
  passwordPolicy: PasswordPolicy;
  hashParameters: HashParameters;
  /** Password hashes computed at once (each holds the Argon2 memory). */
  hashConcurrency: number;
  throttle: ThrottlePolicy;
  /** Log a summary of every database command (debugging). */
  logDatabaseCommands: boolean;
  /** Who may create accounts without being an admin. */
  registration: "open" | "invitation" | "closed";
  /** Whether self-registered users need an admin's approval. */
  registrationApproval: "auto" | "admin";
  /** Default validity of invitations. */
  invitationTtlMs: number;
  /** Base URL of this deployment, for links in emails. */
  publicUrl: string;
  /** Whether --public-url was given (otherwise it follows the address the server listens on). */
  publicUrlGiven: boolean;
  /** Self-service links (password reset, email validation) and their throttling. */
  selfService: SelfServiceLimits;
  email: {
    smtpUrl?: string;
    from: string;
    requireTls: boolean;
    caFile?: string;
    rejectUnauthorized: boolean;
    /** First retry delay; doubles per attempt, at most an hour. */
    retryDelayMs: number;
    maxAttempts: number;
    pollIntervalMs: number;
  };
  /** How webhooks deliver. */
  webhooks: WebhookSettings;
  /** Key sealing queued emails and webhook secrets (base64, 32 bytes); unset: a key file in the data folder. */
  secretKey?: string;
}

type ParsedOptions = Awaited<ReturnType<ReturnType<typeof configOptions>["parse"]>>;

/** Turn parsed options into a Config, validating as it goes. */
export function configFromOptions(o: ParsedOptions): Config {
  const mongodbUri = (o["mongodb-uri"] as string | undefined) || process.env.MONGODB_URI || undefined;
  const listen = String(o.listen);
  if (!/^[^:]*:\d+$/.test(listen) && !/^\[.*\]:\d+$/.test(listen)) {
    throw new Error(`--listen must be host:port, not "${listen}"`);
  }
  const config: Config = {
    listen,
    mongodbUri,
    dataDir: resolve(String(o["data-dir"])),
    cacheDir: resolve(String(o["cache-dir"])),
    logLevel: String(o["log-level"]),
    restoreWindowMs: parseDuration(String(o["restore-window"])),
    defaultDeadlineMs: parseDuration(String(o["default-deadline"])),
    credentialCacheMs: parseDuration(String(o["credential-cache"])),
    maxDeadlineMs: parseDuration(String(o["max-deadline"])),
    maxRequestBytes: Number(o["max-request-bytes"]),
    corsOrigins: String(o["cors-origins"])
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    bootstrapAdmin: Boolean(o["bootstrap-admin"]),
    shutdownTimeoutMs: parseDuration(String(o["shutdown-timeout"])),
    idleTimeoutMs: parseDuration(String(o["idle-timeout"])),
    sweepIntervalMs: parseDuration(String(o["sweep-interval"])),
    recordEvents: Boolean(o["record-events"]),
    eventRetentionMs: parseDuration(String(o["event-retention"])),
    eventLeaseMs: parseDuration(String(o["event-lease"])),
    logDatabaseCommands: Boolean(o["log-database-commands"]),
    registration: String(o.registration) as Config["registration"],
    registrationApproval: String(o["registration-approval"]) as Config["registrationApproval"],
    invitationTtlMs: parseDuration(String(o["invitation-ttl"])),
    publicUrl: String(o["public-url"] || `http://${listen}`).replace(/\/+$/, ""),
    publicUrlGiven: !!o["public-url"],
    selfService: {
      passwordResetTtlMs: parseDuration(String(o["password-reset-ttl"])),
      emailValidationTtlMs: parseDuration(String(o["email-validation-ttl"])),
      maxPerAddress: positive(o, "reset-max-per-address"),
      maxPerClient: positive(o, "reset-max-per-client"),
      windowMs: parseDuration(String(o["reset-window"])),
    },
    email: {
      smtpUrl: String(o["smtp-url"] ?? "") || undefined,
      from: String(o["email-from"]),
      requireTls: Boolean(o["smtp-require-tls"]),
      caFile: String(o["smtp-ca-file"] ?? "") || undefined,
      rejectUnauthorized: Boolean(o["smtp-tls-verify"]),
      retryDelayMs: parseDuration(String(o["email-retry-delay"])),
      maxAttempts: positive(o, "email-max-attempts"),
      pollIntervalMs: 1000,
    },
    webhooks: {
      allowHttp: Boolean(o["webhook-allow-http"]),
      retryDelayMs: parseDuration(String(o["webhook-retry-delay"])),
      maxAttempts: positive(o, "webhook-max-attempts"),
      disableAfterFailures: positive(o, "webhook-disable-failures"),
      disableAfterMs: parseDuration(String(o["webhook-disable-after"])),
      timeoutMs: parseDuration(String(o["webhook-timeout"])),
      pollIntervalMs: 500,
    },
    secretKey: String(o["secret-key"] ?? "") || undefined,
    loginTokenTtlMs: parseDuration(String(o["login-token-ttl"])),
    passwordPolicy: { minLength: positive(o, "password-min-length"), maxLength: positive(o, "password-max-length") },
    hashParameters: {
      memoryCost: positive(o, "argon2-memory"),
      timeCost: positive(o, "argon2-iterations"),
      parallelism: positive(o, "argon2-parallelism"),
    },
    hashConcurrency: positive(o, "hash-concurrency"),
    throttle: {
      maxFailures: positive(o, "login-max-failures"),
      windowMs: parseDuration(String(o["login-failure-window"])),
      lockoutMs: parseDuration(String(o["login-lockout"])),
      maxLockoutMs: parseDuration(String(o["login-max-lockout"])),
    },
  };
  if (config.selfService.windowMs > 86_400_000) throw new Error("--reset-window must be at most 24h");
  if (config.idleTimeoutMs <= 0) throw new Error("--idle-timeout must be positive");
  if (config.webhooks.timeoutMs <= 0) throw new Error("--webhook-timeout must be positive");
  if (config.passwordPolicy.maxLength < 64) throw new Error("--password-max-length must be at least 64");
  if (config.passwordPolicy.maxLength > passwordMaxChars) {
    throw new Error(
      `--password-max-length must be at most ${passwordMaxChars}, the longest password a request may carry`,
    );
  }
  if (config.passwordPolicy.minLength > config.passwordPolicy.maxLength) {
    throw new Error("--password-min-length must not exceed --password-max-length");
  }
  return config;
}

/** The configuration of a server started without flags (ROSTER_* variables and ROSTER_CONFIG still apply). */
export async function defaultConfig(): Promise<Config> {
  return configFromOptions(await configOptions(yargs([])).parse());
}

function positive(o: Record<string, unknown>, name: string): number {
  const n = Number(o[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
  return n;
}
