import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./errors.js";
import { readIfPresent, writePrivateFile } from "./private-file.js";

/** What the config file may hold, with the help of each key. */
export const configKeys = {
  server: "URL of the Roster server, such as https://roster.example.com",
  "api-key": "API key (rst_ak_...) sent as `authorization: Bearer`",
  protocol: "connect, grpc or grpc-web",
  "ca-file": "PEM file of the certificate authority that signed the server's certificate",
  insecure: "true to accept any server certificate (self-signed, test setups)",
  timeout: "deadline of each call, such as 30s or 2m",
  output: "json, table or yaml",
} as const;

export type ConfigKey = keyof typeof configKeys;
export type ConfigValues = Partial<Record<ConfigKey, string>>;

export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(configKeys, key);
}

/** `$XDG_CONFIG_HOME/roster/config.yaml`, `~/.config/roster/config.yaml` without it. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "roster", "config.yaml");
}

/** The settings in the file; none when there is no file. */
export async function readConfigFile(path = configFilePath()): Promise<ConfigValues> {
  const text = readIfPresent(path);
  if (text === undefined) return {};
  // Loaded only when there is a file: most runs have none, and yaml takes a while to import.
  const { default: YAML } = await import("yaml");
  const parsed: unknown = YAML.parse(text) ?? {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`${path} is not a YAML mapping`);
  const values: ConfigValues = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!isConfigKey(key))
      throw new UsageError(`${path}: unknown key ${key} (known: ${Object.keys(configKeys).join(", ")})`);
    values[key] = String(value);
  }
  return values;
}

/**
 * Write the file readable by its owner only (it may hold an API key),
 * through a temporary file so that a crash never leaves half of it.
 */
export async function writeConfigFile(values: ConfigValues, path = configFilePath()): Promise<void> {
  const { default: YAML } = await import("yaml");
  writePrivateFile(path, YAML.stringify(values));
}
