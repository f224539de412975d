import type { Options } from "yargs";
import { parseDuration } from "../shared/duration.js";
import { type ConfigKey, type ConfigValues, configFilePath, readConfigFile } from "./config-file.js";
import { UsageError } from "./errors.js";
import { isExpired, loginFilePath, type StoredLogin, storedLogin } from "./login-store.js";

export const protocols = ["connect", "grpc", "grpc-web"] as const;
export type Protocol = (typeof protocols)[number];
export const outputFormats = ["json", "table", "yaml"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** How to reach the server and print results, resolved from flags, environment and config file. */
export interface Settings {
  server: string;
  /** The bearer token sent: an API key, or the login token of `roster login`. */
  apiKey: string | undefined;
  /** Where `apiKey` came from. */
  credential: "flag" | "env" | "login" | "config" | undefined;
  /** The stored login of this server, when it had expired and was not sent. */
  expiredLogin?: StoredLogin;
  protocol: Protocol;
  caFile: string | undefined;
  insecure: boolean;
  /** Deadline of unary calls. */
  timeoutMs: number;
  /** Deadline of streaming calls: only one given explicitly (a watch runs until stopped). */
  streamTimeoutMs: number | undefined;
  output: OutputFormat;
}

interface GlobalOption {
  env: string;
  fallback?: string;
  option: Options;
}

/**
 * The options every command takes. Each one reads its own variable (the
 * server's ROSTER_LISTEN, ROSTER_CONFIG and so on are not the CLI's) and
 * has no yargs default, so that a flag that was not given falls through to
 * the variable, then to the config file, then to the fallback.
 */
export const globalOptions: Record<ConfigKey, GlobalOption> = {
  server: {
    env: "ROSTER_SERVER",
    fallback: "http://127.0.0.1:8080",
    option: { type: "string", requiresArg: true, describe: "URL of the Roster server" },
  },
  "api-key": {
    env: "ROSTER_API_KEY",
    option: { type: "string", requiresArg: true, describe: "API key sent as `authorization: Bearer <key>`" },
  },
  protocol: {
    env: "ROSTER_PROTOCOL",
    fallback: "connect",
    option: {
      type: "string",
      requiresArg: true,
      choices: protocols,
      describe: "wire protocol: Connect over HTTP/1.1, gRPC over HTTP/2, or gRPC-Web over HTTP/1.1",
    },
  },
  "ca-file": {
    env: "ROSTER_CA_FILE",
    option: { type: "string", requiresArg: true, describe: "PEM file of the CA that signed the server's certificate" },
  },
  insecure: {
    env: "ROSTER_INSECURE",
    fallback: "false",
    option: { type: "boolean", describe: "accept any server certificate (self-signed test setups only)" },
  },
  timeout: {
    env: "ROSTER_TIMEOUT",
    fallback: "30s",
    option: {
      type: "string",
      requiresArg: true,
      describe: "deadline of each call, such as 30s or 2m (streams, such as health watch, have none unless set)",
    },
  },
  output: {
    env: "ROSTER_OUTPUT",
    fallback: "json",
    // Checked by resolveSettings rather than by yargs' `choices`, so that a
    // command that writes files (users export) can take --output for its file.
    option: { type: "string", requiresArg: true, alias: "o", describe: `output format: ${outputFormats.join(", ")}` },
  },
};

/** The help of a global option, with where else its value can come from. */
export function globalOptionHelp(key: ConfigKey): Options {
  const { env, fallback, option } = globalOptions[key];
  const from = [`env ${env}`, `config ${key}`, ...(fallback ? [`default ${fallback}`] : [])].join("; ");
  return { ...option, describe: `${option.describe} (${from})` };
}

function pick(
  key: ConfigKey,
  argv: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: ConfigValues,
): string | undefined {
  const flag = argv[key];
  if (flag !== undefined) return String(flag);
  const fromEnv = env[globalOptions[key].env];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return file[key] ?? globalOptions[key].fallback;
}

function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T))
    throw new UsageError(`${key} must be one of ${allowed.join(", ")}, not "${value}"`);
  return value as T;
}

/**
 * Which credential a command sends: the usual one (`default`), none at all
 * (`none`: logging in must not send a stale token), or only the stored
 * login token of the server (`login`: logging out).
 */
export type CredentialChoice = "default" | "none" | "login";

/**
 * The credential: `--api-key`, then ROSTER_API_KEY, then the login token
 * `roster login` stored for this server (unless it has expired), then the
 * config file's api-key.
 */
function pickCredential(
  server: string,
  argv: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  file: ConfigValues,
  choice: CredentialChoice,
): Pick<Settings, "apiKey" | "credential" | "expiredLogin"> {
  if (choice === "none") return { apiKey: undefined, credential: undefined };
  const login = storedLogin(server, loginFilePath(env));
  const live = login && !isExpired(login) ? login : undefined;
  const expiredLogin = login && !live ? login : undefined;
  if (choice === "login") return { apiKey: live?.token, credential: live ? "login" : undefined, expiredLogin };
  // An empty --api-key "" sends no credential at all.
  if (argv["api-key"] !== undefined)
    return argv["api-key"]
      ? { apiKey: String(argv["api-key"]), credential: "flag" }
      : { apiKey: undefined, credential: undefined };
  const fromEnv = env[globalOptions["api-key"].env];
  if (fromEnv) return { apiKey: fromEnv, credential: "env" };
  if (live) return { apiKey: live.token, credential: "login" };
  if (file["api-key"]) return { apiKey: file["api-key"], credential: "config", expiredLogin };
  return { apiKey: undefined, credential: undefined, expiredLogin };
}

/** Flags win over ROSTER_* variables, variables over the config file, the file over defaults. */
export async function resolveSettings(
  argv: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  options: {
    credential?: CredentialChoice;
    /** The command's --output names a file, not the output format. */
    outputIsFile?: boolean;
  } = {},
): Promise<Settings> {
  const file = await readConfigFile(configFilePath(env));
  const flags = options.outputIsFile ? { ...argv, output: undefined } : argv;
  const get = (key: ConfigKey) => pick(key, flags, env, file);
  const server = get("server") as string;
  if (!/^https?:\/\/[^/]+/.test(server))
    throw new UsageError(`server must be an http:// or https:// URL, not "${server}"`);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(get("timeout") as string);
  } catch (err) {
    throw new UsageError(`timeout: ${(err as Error).message}`);
  }
  const explicitTimeout = argv.timeout !== undefined || !!env[globalOptions.timeout.env] || file.timeout !== undefined;
  const url = server.replace(/\/+$/, "");
  return {
    server: url,
    ...pickCredential(url, flags, env, file, options.credential ?? "default"),
    protocol: oneOf("protocol", get("protocol") as string, protocols),
    caFile: get("ca-file") || undefined,
    insecure: /^(true|1|yes)$/i.test(get("insecure") as string),
    timeoutMs,
    streamTimeoutMs: explicitTimeout ? timeoutMs : undefined,
    output: oneOf("output", get("output") as string, outputFormats),
  };
}
