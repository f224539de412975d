import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { configFilePath } from "./config-file.js";
import { readIfPresent, writePrivateFile } from "./private-file.js";

/** A login token kept by `roster login` for one server. */
export interface StoredLogin {
  token: string;
  user_id: string;
  /** RFC 3339; the token is not sent after it. */
  expires_at?: string;
}

type Logins = Record<string, StoredLogin>;

/**
 * `logins.json` next to the config file: the login token of each server
 * logged in to, by server URL, so that a token is only ever sent to the
 * server that issued it. Readable by its owner only (mode 0600).
 */
export function loginFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(configFilePath(env)), "logins.json");
}

function readLogins(path: string): Logins {
  const text = readIfPresent(path);
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Logins) : {};
  } catch {
    // A damaged file holds no usable login; the next login rewrites it.
    return {};
  }
}

function writeLogins(path: string, logins: Logins): void {
  if (Object.keys(logins).length === 0) {
    rmSync(path, { force: true });
    return;
  }
  writePrivateFile(path, `${JSON.stringify(logins, null, 2)}\n`);
}

/** The login stored for `server`, if any (expired or not). */
export function storedLogin(server: string, path = loginFilePath()): StoredLogin | undefined {
  const login = readLogins(path)[server];
  return login && typeof login.token === "string" ? login : undefined;
}

export function isExpired(login: StoredLogin, now = Date.now()): boolean {
  return login.expires_at !== undefined && Date.parse(login.expires_at) <= now;
}

export function storeLogin(server: string, login: StoredLogin, path = loginFilePath()): void {
  writeLogins(path, { ...readLogins(path), [server]: login });
}

/** Forget the login of `server`; whether there was one. */
export function forgetLogin(server: string, path = loginFilePath()): boolean {
  const logins = readLogins(path);
  if (!(server in logins)) return false;
  delete logins[server];
  writeLogins(path, logins);
  return true;
}
