import type { ObjectId } from "mongodb";
import { TokenStatus, type User } from "../../gen/roster/v1/user_pb.js";
import { errAdminOnlyFields } from "../../shared/errors.js";
import { resolveReadMask } from "../requests/fieldmask.js";
import type { Store } from "../store/store.js";
import type { UserDocument, UserField } from "../store/user-documents.js";
import { userFieldRules } from "./user-fields.js";

/** The computed User field: REANA's access-token status, never stored. */
export const tokenStatusPath = "token_status";

/**
 * A read mask that may name the computed `token_status` besides stored
 * fields: the stored fields to fetch, and whether to compute the status.
 * The status is private (the user's own, or an admin's to read) and only
 * computed when named, so an empty mask still means every stored field.
 */
export function resolveUserReadMask(
  paths: readonly string[],
  mayReadPrivate: boolean,
): { fields: UserField[]; tokenStatus: boolean } {
  const tokenStatus = paths.includes(tokenStatusPath);
  if (tokenStatus && !mayReadPrivate) throw errAdminOnlyFields({ paths: tokenStatusPath });
  const stored = paths.filter((p) => p !== tokenStatusPath);
  // `token_status` alone asks for no stored field beyond the always-returned ones.
  const fields = tokenStatus && stored.length === 0 ? [] : resolveReadMask(userFieldRules, stored, mayReadPrivate);
  return { fields, tokenStatus };
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
  const refs = pairs.map((p) => p.doc.ref).filter((r): r is ObjectId => r !== undefined);
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
