import { ClearTokens } from "../../gen/roster/v1/user_access_pb.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";
import { hashNewPassword, type NewPassword, type PasswordHasher } from "./passwords.js";

/** A new password for a user, as UpdatePassword, CreateTemporaryPassword and SCIM set one. */
export interface PasswordChange {
  /** The new password, checked against the policy (or generated). */
  password: NewPassword;
  /** Whether the user must choose another password at the next login. */
  requirePasswordUpdate: boolean;
  /** Which tokens to revoke; CLEAR_TOKENS_UNSPECIFIED means LOGIN_ONLY. */
  clearTokens: ClearTokens;
  /** Who makes the change (recorded by the store). */
  actor: string;
  /** Change only if the user still has this etag; unset for any. */
  etag?: string;
}

/** What setPassword did. */
export interface PasswordChanged {
  user: UserDocument;
  loginTokensRevoked: bigint;
  apiKeysRevoked: bigint;
}

/**
 * Store a new password for user `userId`: hash it with the server's hasher,
 * stamp password_updated_at and revoke the tokens `change.clearTokens`
 * names. The one path for a new password of an existing user (the bulk
 * import, which takes hashes, and the rehash at login are not new passwords).
 */
export async function setPassword(
  store: Store,
  hasher: PasswordHasher,
  userId: string,
  change: PasswordChange,
): Promise<PasswordChanged> {
  const hash = await hashNewPassword(hasher, change.password);
  const now = new Date();
  const user = await changeUser(
    store,
    userId,
    (current) => ({
      ...current,
      password_hash: hash,
      password_updated_at: now,
      require_password_update: change.requirePasswordUpdate,
      updated_at: now,
    }),
    { actor: change.actor, ...(change.etag ? { etag: change.etag } : {}) },
  );
  return { user, ...(await revokeTokens(store, user, change.clearTokens || ClearTokens.LOGIN_ONLY)) };
}

/** Revoke what `clear` names; returns counts. */
export async function revokeTokens(store: Store, user: UserDocument, clear: ClearTokens) {
  const login = clear === ClearTokens.NONE ? 0 : await store.tokens.deleteMany({ userRef: user.ref, kind: "login" });
  const api = clear === ClearTokens.ALL ? await store.tokens.deleteMany({ userRef: user.ref, kind: "api_key" }) : 0;
  return { loginTokensRevoked: BigInt(login), apiKeysRevoked: BigInt(api) };
}
