import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Right } from "../../gen/roster/v1/rights_pb.js";
import type { APIKey } from "../../gen/roster/v1/user_access_pb.js";
import { errApiKeyNotFound, errRightsExceeded, errUserNotFound, invalidArgument } from "../../shared/errors.js";
import { apiKeyNameMaxChars } from "../requests/request-rules.js";
import { expandRights, rightName, rightsOfUser } from "../rights/rights.js";
import { apiKeyFromDocument } from "../store/access-documents.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import { longerThan } from "../validation/text.js";
import { type IssuedApiKey, isApiKeyId } from "./api-keys.js";
import type { Caller } from "./caller.js";

/** The user a request names, or the caller when it names none. */
export async function targetUser(store: Store, caller: Caller, userId: string): Promise<UserDocument> {
  const id = userId || caller.userId;
  const user = await store.users.getDocument(id);
  if (!user) throw errUserNotFound({ user_id: id });
  return user;
}

/**
 * The rights a new key or request may carry: what was asked for (or, if
 * nothing, everything the granter holds), never more than the granter
 * holds nor more than the user may hold.
 */
export function grantableRights(asked: readonly Right[], granter: ReadonlySet<Right>, userIsAdmin: boolean): Right[] {
  const holdable = rightsOfUser(userIsAdmin);
  if (asked.length === 0) return [...granter].filter((r) => holdable.has(r));
  const wanted = expandRights(asked);
  const excess = [...wanted].filter((r) => !granter.has(r) || !holdable.has(r));
  if (excess.length > 0) throw errRightsExceeded({ rights: excess.map((r) => `RIGHT_${rightName(r)}`).join(", ") });
  return [...new Set(asked)];
}

/** INVALID_ARGUMENT naming `field` unless `name` may name an API key. */
export function requireKeyName(name: string, field = "name"): void {
  if (!name.trim() || longerThan(name, apiKeyNameMaxChars)) {
    throw invalidArgument([{ field, description: `must be 1 to ${apiKeyNameMaxChars} characters` }]);
  }
  // Requests name a key by id or name in one field; an id-shaped name would be ambiguous.
  if (isApiKeyId(name)) throw invalidArgument([{ field, description: "must not have the form of an API key id" }]);
}

/**
 * How far in the past an expiry may be and still mean "now": a client's
 * "now" reaches the server a moment later, and clocks differ a little.
 */
const expiryLeewayMs = 60_000;

/** A key's expiry as asked for, null for none; INVALID_ARGUMENT naming `field` if it is past. */
export function expiryOrNull(ts: { seconds: bigint; nanos: number } | undefined, field: string): Date | null {
  if (!ts) return null;
  const date = timestampDate(ts as Parameters<typeof timestampDate>[0]);
  const now = Date.now();
  if (date.getTime() < now - expiryLeewayMs) {
    throw invalidArgument([{ field, description: "must not be in the past (to expire a key now, use ExpireAPIKey)" }]);
  }
  return date.getTime() < now ? new Date(now) : date;
}

/** A key just issued to `user`, as the API returns it. */
export async function issuedKeyOf(store: Store, user: UserDocument, key: IssuedApiKey): Promise<APIKey> {
  const doc = await store.tokens.get(user.ref, "api_key", { key_id: key.id });
  if (!doc) throw errApiKeyNotFound({ id: key.id, user_id: user.user_id });
  return apiKeyFromDocument(doc, user.user_id);
}
