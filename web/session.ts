import { Right } from "../gen/roster/v1/rights_pb.js";
import { access, useToken } from "./clients.js";

/** Who is signed in, as the server sees the token (UserAccess.ListRights). */
export interface Session {
  token: string;
  /** `login` (from a password) or `api_key` (pasted). */
  tokenKind: string;
  userId: string;
  /** An approved admin. */
  admin: boolean;
  /** The token's effective rights (the `*_ALL` rights already expanded). */
  rights: ReadonlySet<Right>;
}

/**
 * sessionStorage, not localStorage: the token lives as long as the tab and
 * is not shared with other tabs.
 */
const storageKey = "roster-console-token";

export function savedToken(): string | undefined {
  return sessionStorage.getItem(storageKey) ?? undefined;
}

/**
 * Ask the server who `token` is; on success, keep it (in this tab) and use
 * it for every later call. A refused token leaves nothing behind.
 */
export async function startSession(token: string): Promise<Session> {
  const who = await access.listRights({}, { headers: { authorization: `Bearer ${token}` } });
  sessionStorage.setItem(storageKey, token);
  useToken(token);
  return {
    token,
    tokenKind: who.tokenKind,
    userId: who.userId,
    admin: who.admin,
    rights: new Set(who.rights),
  };
}

/** Forget the token; a login token is also revoked on the server (Logout), an API key is not. */
export async function endSession(session: Session | undefined): Promise<void> {
  try {
    if (session?.tokenKind === "login") await access.logout({});
  } finally {
    forgetSession();
  }
}

/** Forget the token without telling the server (it already refused it). */
export function forgetSession(): void {
  sessionStorage.removeItem(storageKey);
  useToken(undefined);
}

export function holds(session: Session, right: Right): boolean {
  return session.rights.has(right);
}

/** A login token of a user who must change their password first: it allows nothing else. */
export function passwordChangeOnly(session: Session): boolean {
  return !holds(session, Right.USER_INFO) && holds(session, Right.USER_PASSWORD);
}
