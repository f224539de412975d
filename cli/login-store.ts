import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { configFilePath } from "./config-file.js";

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
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
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
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFileSync is masked by the umask; chmod is not.
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
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
