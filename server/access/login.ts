import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { type AuthenticateResponse, AuthenticateResponseSchema } from "../../gen/roster/v1/user_access_pb.js";
import { errUnauthenticated, errUserBusy } from "../../shared/errors.js";
import { expandRights, rightName, rightsInState } from "../rights/rights.js";
import { hashToken, newRecordId, newToken } from "../secrets/token-format.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import type { LoginThrottle } from "./login-throttle.js";
import type { PasswordHasher } from "./passwords.js";
import { systemActor } from "./system-user.js";

export interface LoginService {
  /**
   * Password -> login token. Every failure is the same UNAUTHENTICATED
   * error after the same amount of work (a hash is verified even for unknown
   * users), so callers cannot tell which accounts exist.
   */
  authenticate(
    identifier: string,
    password: string,
    /** Told the id of the account the identifier names, if one exists. */
    named?: (userId: string) => void,
  ): Promise<AuthenticateResponse>;
  /** Whether `password` is the user's, throttled and counted like logins. */
  checkPassword(user: UserDocument, password: string): Promise<boolean>;
}

export interface LoginOptions {
  store: Store;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  /** How long login tokens live. Default 24 hours. */
  tokenTtlMs: number;
}

/** The rights of a login token for a user who must change their password first. */
const passwordChangeOnly = [Right.USER_PASSWORD];

export async function createLoginService(options: LoginOptions): Promise<LoginService> {
  const { store, hasher, throttle } = options;
  // Verified against when there is no real hash, so that unknown users and
  // users without a password cost the same time as real ones.
  const dummyHash = await hasher.hash(newToken("login"));

  /**
   * Check a password, counted against the account before it is checked.
   * Unknown names (`account` null) store nothing, so guessing them cannot
   * grow the database; they cost one verification like any other attempt.
   */
  async function verify(user: UserDocument | null, account: string | null, password: string): Promise<boolean> {
    if (!account) await throttle.readNothing();
    if (!account || !(await throttle.admit(account))) {
      await hasher.verify(dummyHash, password);
      return false;
    }
    const { ok, rehash } = await hasher.verify(user?.password_hash ?? dummyHash, password);
    const matched = ok && !!user?.password_hash;
    if (!matched) return false;
    await throttle.reset(account);
    if (rehash && user) {
      const hash = await hasher.hash(password);
      // Only if the hash is still the one verified: never undo a concurrent password change.
      const verifiedHash = user.password_hash;
      await store.users
        .update(
          user.user_id,
          (current) => (current.password_hash === verifiedHash ? { ...current, password_hash: hash } : undefined),
          { actor: systemActor, includeDeleted: true },
        )
        // A user in the middle of a rename or merge is rehashed at a later login.
        .catch((err) => {
          if (!errUserBusy.is(err)) throw err;
        });
    }
    return true;
  }

  return {
    async authenticate(identifier, password, named) {
      const key = identifier.trim().toLowerCase();
      const found =
        key.length === 0 || password.length === 0 || password.length > 4096
          ? null
          : key.includes("@")
            ? await store.users.getDocumentByEmail(key, { includeDeleted: true })
            : await store.users.getDocument(key, { includeDeleted: true });
      // A deleted account is unknown, unless it was merged into another one
      // with redirect: then its own password logs in as that other user.
      const redirected = !!found?.deleted_at && !!found.merged_into && found.merge_redirect;
      const account = found && (!found.deleted_at || redirected) ? found : null;
      const user = redirected && found ? await store.users.getDocument(found.merged_into) : account;
      if (account) named?.(account.user_id);
      const ok = await verify(account, account ? `u:${account.ref.toHexString()}` : null, password);
      const held = user ? rightsInState(user.admin, user.state) : new Set<Right>();
      if (!ok || !user || held.size === 0) throw errUnauthenticated({});

      const restricted = user.require_password_update;
      const rights = restricted ? passwordChangeOnly : [Right.USER_ALL, Right.ADMIN_ALL];
      const token = newToken("login");
      const now = new Date();
      const expiresAt = new Date(now.getTime() + options.tokenTtlMs);
      const keyId = newRecordId("lt");
      await store.tokens.insert({
        _id: hashToken(token),
        key_id: keyId,
        kind: "login",
        user_id: user.user_id,
        user_ref: user.ref,
        // Token names are unique per user and kind.
        name: `${restricted ? "login (password change only)" : "login"} ${keyId}`,
        rights: rights.map(rightName),
        created_at: now,
        expires_at: expiresAt,
        last_used_at: null,
        created_by: user.user_id,
        revision: 1,
      });
      return create(AuthenticateResponseSchema, {
        token,
        expiresAt: timestampFromDate(expiresAt),
        userId: user.user_id,
        passwordUpdateRequired: restricted,
        rights: [...expandRights(rights)].filter((r) => held.has(r)).sort((a, b) => a - b),
      });
    },

    checkPassword(user, password) {
      return verify(user, `u:${user.ref.toHexString()}`, password);
    },
  };
}
