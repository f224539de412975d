import { TokenStatus, type User } from "../../gen/roster/v1/user_pb.js";
import { resolveReadMask } from "../requests/fieldmask.js";
import type { Store } from "../store/store.js";
import type { UserDocument, UserField, UserRef } from "../store/user-documents.js";
import { userFieldRules } from "./user-fields.js";

/** The computed User field: REANA's access-token status, never stored. */
export const tokenStatusPath = "token_status";

/**
 * A read mask of users: the stored fields to fetch, and whether to compute
 * the status (a computed field, annotated so in user.proto: only a mask
 * that names it returns it, so an empty mask still means every stored field).
 */
export function resolveUserReadMask(
  paths: readonly string[],
  mayReadPrivate: boolean,
): { fields: UserField[]; tokenStatus: boolean } {
  const named = resolveReadMask(userFieldRules, paths, mayReadPrivate);
  return {
    fields: named.filter((f) => !userFieldRules[f].computed),
    tokenStatus: named.includes(tokenStatusPath),
  };
}

/**
 * Set `token_status` on users read with their `ref`: two queries for all
 * of them (usable API keys, open token requests), never one per user.
 */
export async function fillTokenStatus(
  store: Store,
  pairs: readonly { doc: Partial<UserDocument>; user: User }[],
  maxTimeMS?: number,
): Promise<void> {
  const refs = pairs.map((p) => p.doc.ref).filter((r): r is UserRef => r !== undefined);
  const [withKeys, open] = await Promise.all([
    store.tokens.withUsableApiKeys(refs, new Date(), maxTimeMS),
    store.tokenRequests.openRequestsOf(refs, maxTimeMS),
  ]);
  for (const { doc, user } of pairs) {
    const ref = doc.ref?.toHexString() ?? "";
    const requests = open.get(ref) ?? [];
    // A granted request's key is the user's to pick up: granted is active, as in REANA.
    user.tokenStatus =
      withKeys.has(ref) || requests.includes("GRANTED")
        ? TokenStatus.ACTIVE
        : requests.includes("PENDING")
          ? TokenStatus.REQUESTED
          : TokenStatus.NONE;
  }
}
