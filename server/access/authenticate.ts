import type { Right } from "../../gen/roster/v1/rights_pb.js";
import { errUnauthenticated } from "../../shared/errors.js";
import { expandRights, rightFromName, rightsInState } from "../rights/rights.js";
import { hashToken, isImportedTokenShape, tokenKind } from "../secrets/token-format.js";
import type { Store } from "../store/store.js";
import { systemUserId } from "../store/user-documents.js";
import type { Caller } from "./caller.js";
import type { CallerCache } from "./caller-cache.js";

/**
 * Resolve an `authorization` header into a caller. No header: undefined
 * (anonymous). A header that does not name a live token of an approved,
 * non-deleted user: UNAUTHENTICATED, with one message for every reason.
 * With a cache, a token resolved a moment ago is not read again (see
 * caller-cache.ts).
 */
export async function authenticate(
  store: Store,
  header: string | null,
  options: { cache?: CallerCache; now?: Date } = {},
): Promise<Caller | undefined> {
  if (!header) return undefined;
  const now = options.now ?? new Date();
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  const secret = match?.[1];
  const kind = secret ? tokenKind(secret) : undefined;
  if (!secret || (kind !== "apiKey" && kind !== "login" && !isImportedTokenShape(secret))) throw errUnauthenticated({});
  const hash = hashToken(secret);
  const cached = options.cache?.get(hash, now.getTime());
  if (cached) return cached;
  const generation = store.credentialsGeneration();
  const token = await store.tokens.findBySecretHash(hash);
  if (!token || (token.expires_at && token.expires_at <= now)) throw errUnauthenticated({});
  // The token names its user by incarnation (`user_ref`); its `user_id` is
  // only a hint, stale after a rename that raced with the token's creation.
  const hinted = await store.users.getDocument(token.user_id);
  const user =
    hinted?.ref.equals(token.user_ref) && !hinted.operation
      ? hinted
      : await store.users.getDocumentByRef(token.user_ref);
  if (user && user.user_id !== token.user_id && !user.operation) await store.tokens.repoint(token, user.user_id);
  const held = user && user.user_id !== systemUserId ? rightsInState(user.admin, user.state) : new Set<Right>();
  if (!user || held.size === 0) throw errUnauthenticated({});
  const rights = new Set<Right>();
  for (const right of expandRights(token.rights.map(rightFromName).filter((r): r is Right => r !== undefined))) {
    if (held.has(right)) rights.add(right);
  }
  await store.tokens.touch(token, now);
  const caller: Caller = {
    userId: user.user_id,
    userRef: user.ref,
    admin: user.admin && user.state === "APPROVED",
    rights,
    tokenId: token.key_id,
    tokenKind: token.kind,
  };
  // Only a caller read with no write in between, and not right after a
  // touch (which is itself a write, so the next call reads again once).
  options.cache?.set(hash, caller, generation, token.expires_at?.getTime(), now.getTime());
  return caller;
}
