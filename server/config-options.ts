import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import YAML from "yaml";
import type { Argv } from "yargs";
import { projectRoot } from "./runtime/paths.js";

/**
 * The value of an environment variable, converted to the type of the
 * default. Options read their own variables (instead of yargs' `.env()`), so
 * that other ROSTER_* variables, such as the CLI's, are not taken for
 * unknown options.
 */
function fromEnv<T extends string | number | boolean>(name: string, fallback: T): T {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  if (typeof fallback === "number") return Number(value) as T;
  if (typeof fallback === "boolean") return !/^(0|false|no|off)$/i.test(value) as T;
  return value as T;
}

/**
 * Every option of the server, for yargs: flag name, env var, help, default.
 * `configFromOptions` (config.ts) turns what they parse into a Config.
 */
export function configOptions<T>(argv: Argv<T>) {
  return argv
    .option("config", { type: "string", default: process.env.ROSTER_CONFIG })
    .config(
      "config",
      "YAML file with any of these options (flag names as keys); flags win over the file, the file over ROSTER_* variables; env: ROSTER_CONFIG",
      (path: string) => YAML.parse(readFileSync(resolve(path), "utf8")) ?? {},
    )
    .option("listen", {
      type: "string",
      default: fromEnv("ROSTER_LISTEN", "127.0.0.1:8080"),
      describe: "host:port serving gRPC (h2c), gRPC-Web and Connect (HTTP/1.1 and h2c) on one port; env: ROSTER_LISTEN",
    })
    .option("mongodb-uri", {
      type: "string",
      describe: "MongoDB URI (mongodb://host/db); without it an embedded database is started; env: MONGODB_URI",
    })
    .option("data-dir", {
      type: "string",
      default: fromEnv("ROSTER_DATA_DIR", "./data"),
      describe: "folder for the embedded database and server state; env: ROSTER_DATA_DIR",
    })
    .option("cache-dir", {
      type: "string",
      default: fromEnv("ROSTER_CACHE_DIR", join(projectRoot, ".cache")),
      describe: "folder for the FerretDB build (made once, with Go); env: ROSTER_CACHE_DIR",
    })
    .option("log-level", {
      type: "string",
      default: fromEnv("ROSTER_LOG_LEVEL", "info"),
      choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
      describe: "log level; env: ROSTER_LOG_LEVEL",
    })
    .option("restore-window", {
      type: "string",
      default: fromEnv("ROSTER_RESTORE_WINDOW", "24h"),
      describe: "how long a deleted user can be restored; env: ROSTER_RESTORE_WINDOW",
    })
    .option("credential-cache", {
      type: "string",
      default: fromEnv("ROSTER_CREDENTIAL_CACHE", "1s"),
      describe:
        "how long a token checked by this process is trusted without reading it again; changes made through other server processes (a revoked key, a deactivated user) reach this one within it; 0 turns it off; env: ROSTER_CREDENTIAL_CACHE",
    })
    .option("default-deadline", {
      type: "string",
      default: fromEnv("ROSTER_DEFAULT_DEADLINE", "30s"),
      describe: "deadline of calls whose client sets none; env: ROSTER_DEFAULT_DEADLINE",
    })
    .option("max-deadline", {
      type: "string",
      default: fromEnv("ROSTER_MAX_DEADLINE", "5m"),
      describe: "largest deadline a client may ask for; env: ROSTER_MAX_DEADLINE",
    })
    .option("max-request-bytes", {
      type: "number",
      default: fromEnv("ROSTER_MAX_REQUEST_BYTES", 4 * 1024 * 1024),
      describe: "largest request message accepted, in bytes; env: ROSTER_MAX_REQUEST_BYTES",
    })
    .option("cors-origins", {
      type: "string",
      default: fromEnv("ROSTER_CORS_ORIGINS", "*"),
      describe: "comma-separated origins allowed by CORS, or *; env: ROSTER_CORS_ORIGINS",
    })
    .option("bootstrap-admin", {
      type: "boolean",
      default: fromEnv("ROSTER_BOOTSTRAP_ADMIN", true),
      describe:
        "on a first start with an empty database, create user `admin` and print an API key for it once; env: ROSTER_BOOTSTRAP_ADMIN",
    })
    .option("shutdown-timeout", {
      type: "string",
      default: fromEnv("ROSTER_SHUTDOWN_TIMEOUT", "30s"),
      describe:
        "longest shutdown after SIGTERM: streams end at once with UNAVAILABLE, calls may finish until 5 s before the limit (half of it when under 10 s), the rest closes the database; env: ROSTER_SHUTDOWN_TIMEOUT",
    })
    .option("idle-timeout", {
      type: "string",
      default: fromEnv("ROSTER_IDLE_TIMEOUT", "60s"),
      describe:
        "close connections idle this long: not done with their first request's headers (or the HTTP/2 preface), or HTTP/2 with no call in flight; env: ROSTER_IDLE_TIMEOUT",
    })
    .option("record-events", {
      type: "boolean",
      default: fromEnv("ROSTER_RECORD_EVENTS", true),
      describe:
        "record the audit trail (events); turn off only to measure its cost, changes are then untraced; env: ROSTER_RECORD_EVENTS",
    })
    .option("event-retention", {
      type: "string",
      default: fromEnv("ROSTER_EVENT_RETENTION", "90d"),
      describe: "how long events (the audit trail) are kept; env: ROSTER_EVENT_RETENTION",
    })
    .option("event-lease", {
      type: "string",
      default: fromEnv("ROSTER_EVENT_LEASE", "1m"),
      describe:
        "how long after a change's deadline its event is repaired if the server died before recording it; env: ROSTER_EVENT_LEASE",
    })
    .option("sweep-interval", {
      type: "string",
      default: fromEnv("ROSTER_SWEEP_INTERVAL", "1m"),
      describe: "how often expired tokens, invitations and write locks are swept; env: ROSTER_SWEEP_INTERVAL",
    })
    .option("log-database-commands", {
      type: "boolean",
      default: fromEnv("ROSTER_LOG_DATABASE_COMMANDS", false),
      describe:
        "log each database command's collection, projection, sort, limit and maxTimeMS (never filter values); env: ROSTER_LOG_DATABASE_COMMANDS",
    })
    .option("registration", {
      type: "string",
      choices: ["open", "invitation", "closed"],
      default: fromEnv("ROSTER_REGISTRATION", "invitation"),
      describe:
        "who may create an account without being an admin: anybody (open), holders of an invitation token (invitation), nobody (closed); env: ROSTER_REGISTRATION",
    })
    .option("registration-approval", {
      type: "string",
      choices: ["auto", "admin"],
      default: fromEnv("ROSTER_REGISTRATION_APPROVAL", "admin"),
      describe:
        "self-registered users start APPROVED (auto) or REQUESTED until an admin approves them, who are emailed (admin); env: ROSTER_REGISTRATION_APPROVAL",
    })
    .option("invitation-ttl", {
      type: "string",
      default: fromEnv("ROSTER_INVITATION_TTL", "7d"),
      describe: "how long an invitation token works by default; env: ROSTER_INVITATION_TTL",
    })
    .option("public-url", {
      type: "string",
      default: fromEnv("ROSTER_PUBLIC_URL", ""),
      describe: "base URL of this deployment, for links in emails (default http://<listen>); env: ROSTER_PUBLIC_URL",
    })
    .option("password-reset-ttl", {
      type: "string",
      default: fromEnv("ROSTER_PASSWORD_RESET_TTL", "1h"),
      describe: "how long a password reset link works; env: ROSTER_PASSWORD_RESET_TTL",
    })
    .option("email-validation-ttl", {
      type: "string",
      default: fromEnv("ROSTER_EMAIL_VALIDATION_TTL", "7d"),
      describe: "how long an email validation link works; env: ROSTER_EMAIL_VALIDATION_TTL",
    })
    .option("reset-max-per-address", {
      type: "number",
      default: fromEnv("ROSTER_RESET_MAX_PER_ADDRESS", 3),
      describe:
        "password reset emails one address gets per --reset-window; further requests answer alike but send nothing; env: ROSTER_RESET_MAX_PER_ADDRESS",
    })
    .option("reset-max-per-client", {
      type: "number",
      default: fromEnv("ROSTER_RESET_MAX_PER_CLIENT", 30),
      describe:
        "password reset requests one client address may make per --reset-window (RESOURCE_EXHAUSTED beyond); env: ROSTER_RESET_MAX_PER_CLIENT",
    })
    .option("reset-window", {
      type: "string",
      default: fromEnv("ROSTER_RESET_WINDOW", "1h"),
      describe: "the window of both password reset limits, at most 24h; env: ROSTER_RESET_WINDOW",
    })
    .option("smtp-url", {
      type: "string",
      default: fromEnv("ROSTER_SMTP_URL", ""),
      describe:
        "SMTP server, smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465; unset: emails are written to <data-dir>/outbox; env: ROSTER_SMTP_URL",
    })
    .option("email-from", {
      type: "string",
      default: fromEnv("ROSTER_EMAIL_FROM", "Roster <roster@localhost>"),
      describe: "From address of emails; env: ROSTER_EMAIL_FROM",
    })
    .option("smtp-require-tls", {
      type: "boolean",
      default: fromEnv("ROSTER_SMTP_REQUIRE_TLS", false),
      describe: "refuse to send over smtp:// without STARTTLS; env: ROSTER_SMTP_REQUIRE_TLS",
    })
    .option("smtp-ca-file", {
      type: "string",
      default: fromEnv("ROSTER_SMTP_CA_FILE", ""),
      describe: "PEM file of a CA to trust for the SMTP server's certificate; env: ROSTER_SMTP_CA_FILE",
    })
    .option("smtp-tls-verify", {
      type: "boolean",
      default: fromEnv("ROSTER_SMTP_TLS_VERIFY", true),
      describe: "verify the SMTP server's certificate; env: ROSTER_SMTP_TLS_VERIFY",
    })
    .option("email-retry-delay", {
      type: "string",
      default: fromEnv("ROSTER_EMAIL_RETRY_DELAY", "5s"),
      describe: "wait before retrying a failed email; doubles per attempt, at most 1h; env: ROSTER_EMAIL_RETRY_DELAY",
    })
    .option("email-max-attempts", {
      type: "number",
      default: fromEnv("ROSTER_EMAIL_MAX_ATTEMPTS", 25),
      describe: "attempts before an email is given up; env: ROSTER_EMAIL_MAX_ATTEMPTS",
    })
    .option("webhook-allow-http", {
      type: "boolean",
      default: fromEnv("ROSTER_WEBHOOK_ALLOW_HTTP", false),
      describe:
        "accept http:// webhook endpoints (tests, private networks); otherwise only https://; env: ROSTER_WEBHOOK_ALLOW_HTTP",
    })
    .option("webhook-retry-delay", {
      type: "string",
      default: fromEnv("ROSTER_WEBHOOK_RETRY_DELAY", "5s"),
      describe:
        "wait before retrying a failed webhook delivery; doubles per attempt, at most 1h; env: ROSTER_WEBHOOK_RETRY_DELAY",
    })
    .option("webhook-max-attempts", {
      type: "number",
      default: fromEnv("ROSTER_WEBHOOK_MAX_ATTEMPTS", 35),
      describe:
        "attempts before a webhook delivery is given up (35: about a day of backoff); env: ROSTER_WEBHOOK_MAX_ATTEMPTS",
    })
    .option("webhook-disable-failures", {
      type: "number",
      default: fromEnv("ROSTER_WEBHOOK_DISABLE_FAILURES", 20),
      describe:
        "disable a webhook (and email the admins) after this many failed delivery attempts in a row, once they have gone on for --webhook-disable-after; env: ROSTER_WEBHOOK_DISABLE_FAILURES",
    })
    .option("webhook-disable-after", {
      type: "string",
      default: fromEnv("ROSTER_WEBHOOK_DISABLE_AFTER", "24h"),
      describe:
        "how long a webhook's deliveries must have failed, without a success, before it is disabled; env: ROSTER_WEBHOOK_DISABLE_AFTER",
    })
    .option("webhook-timeout", {
      type: "string",
      default: fromEnv("ROSTER_WEBHOOK_TIMEOUT", "10s"),
      describe: "how long a webhook endpoint may take to answer a delivery; env: ROSTER_WEBHOOK_TIMEOUT",
    })
    .option("secret-key", {
      type: "string",
      default: fromEnv("ROSTER_SECRET_KEY", ""),
      describe:
        "base64 of 32 random bytes that seal queued emails (they may carry tokens) and webhook secrets; share it between instances; unset: <data-dir>/secret.key; env: ROSTER_SECRET_KEY",
    })
    .option("login-token-ttl", {
      type: "string",
      default: fromEnv("ROSTER_LOGIN_TOKEN_TTL", "24h"),
      describe: "how long a login token from Authenticate lives; env: ROSTER_LOGIN_TOKEN_TTL",
    })
    .option("password-min-length", {
      type: "number",
      default: fromEnv("ROSTER_PASSWORD_MIN_LENGTH", 8),
      describe: "shortest password accepted (characters); env: ROSTER_PASSWORD_MIN_LENGTH",
    })
    .option("password-max-length", {
      type: "number",
      default: fromEnv("ROSTER_PASSWORD_MAX_LENGTH", 256),
      describe:
        "longest password accepted, at least 64; longer ones are refused, never truncated; env: ROSTER_PASSWORD_MAX_LENGTH",
    })
    .option("argon2-memory", {
      type: "number",
      default: fromEnv("ROSTER_ARGON2_MEMORY", 19456),
      describe: "Argon2id memory cost in KiB (OWASP: 19456 = 19 MiB); env: ROSTER_ARGON2_MEMORY",
    })
    .option("argon2-iterations", {
      type: "number",
      default: fromEnv("ROSTER_ARGON2_ITERATIONS", 2),
      describe: "Argon2id time cost; env: ROSTER_ARGON2_ITERATIONS",
    })
    .option("argon2-parallelism", {
      type: "number",
      default: fromEnv("ROSTER_ARGON2_PARALLELISM", 1),
      describe: "Argon2id lanes; env: ROSTER_ARGON2_PARALLELISM",
    })
    .option("hash-concurrency", {
      type: "number",
      default: fromEnv("ROSTER_HASH_CONCURRENCY", 4),
      describe: "password hashes computed at once; more wait; env: ROSTER_HASH_CONCURRENCY",
    })
    .option("login-max-failures", {
      type: "number",
      default: fromEnv("ROSTER_LOGIN_MAX_FAILURES", 10),
      describe: "failed logins within the window that lock an account; env: ROSTER_LOGIN_MAX_FAILURES",
    })
    .option("login-failure-window", {
      type: "string",
      default: fromEnv("ROSTER_LOGIN_FAILURE_WINDOW", "15m"),
      describe: "how far back failed logins count; env: ROSTER_LOGIN_FAILURE_WINDOW",
    })
    .option("login-lockout", {
      type: "string",
      default: fromEnv("ROSTER_LOGIN_LOCKOUT", "1m"),
      describe: "first lock after too many failures; doubles with each further failure; env: ROSTER_LOGIN_LOCKOUT",
    })
    .option("login-max-lockout", {
      type: "string",
      default: fromEnv("ROSTER_LOGIN_MAX_LOCKOUT", "1h"),
      describe: "longest lock; env: ROSTER_LOGIN_MAX_LOCKOUT",
    });
}
