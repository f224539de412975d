import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { APIKey } from "../../gen/roster/v1/user_access_pb.js";
import {
  errMissingRight,
  errTokenBusy,
  errTokenRequestNotFound,
  errTokenRequestState,
  invalidArgument,
} from "../../shared/errors.js";
import type { EmailQueue } from "../email/email-queue.js";
import { offsetPage } from "../requests/pagination.js";
import { tokenRequestReasonMaxChars } from "../requests/request-rules.js";
import { rightName, rightsOfUser } from "../rights/rights.js";
import { newRecordId } from "../secrets/token-format.js";
import type { Store } from "../store/store.js";
import type { TokenRequestDocument, TokenRequestStatusName } from "../store/token-requests-store.js";
import { approveRequester } from "../user-changes/requester-approval.js";
import { longerThan } from "../validation/text.js";
import { expiryOrNull, grantableRights, issuedKeyOf, requireKeyName, targetUser } from "./api-key-terms.js";
import { apiKeyIdPrefix, issueApiKey } from "./api-keys.js";
import { type Caller, holds, requireRight } from "./caller.js";

/*
 * Token requests (REANA): a user asks for an API key with a reason, an
 * admin grants or denies it, and the user retrieves the granted key once.
 */

/** Ask for an API key named `name` with `rights`, limited by what the user may hold. */
export async function requestToken(
  store: Store,
  caller: Caller,
  req: { name: string; reason: string; rights: readonly Right[] },
): Promise<TokenRequestDocument> {
  requireKeyName(req.name);
  if (!req.reason.trim() || longerThan(req.reason, tokenRequestReasonMaxChars)) {
    throw invalidArgument([{ field: "reason", description: `must be 1 to ${tokenRequestReasonMaxChars} characters` }]);
  }
  // Asking is limited by what the user may hold, not by the asking token.
  const rights = grantableRights(req.rights, rightsOfUser(caller.admin), caller.admin);
  const doc: TokenRequestDocument = {
    _id: newRecordId("tr"),
    user_id: caller.userId,
    user_ref: caller.userRef,
    name: req.name,
    rights: rights.map(rightName),
    reason: req.reason,
    status: "PENDING",
    created_at: new Date(),
    decided_at: null,
    decided_by: "",
    decision_note: "",
    expires_at: null,
    api_key_id: "",
    revision: 1,
  };
  await store.tokenRequests.insert(doc);
  return doc;
}

/** The caller's requests; a user admin's also those of one other user or of all. */
export async function readTokenRequests(
  store: Store,
  caller: Caller,
  req: { userId: string; allUsers: boolean; status?: TokenRequestStatusName; limit: number; page: number },
  maxTimeMS?: number,
): Promise<{ requests: TokenRequestDocument[]; total: number }> {
  let userRef = caller.userRef;
  if (req.allUsers || (req.userId && req.userId !== caller.userId)) {
    requireRight(caller, Right.ADMIN_USERS_READ);
    if (req.userId) userRef = (await targetUser(store, caller, req.userId)).ref;
  }
  return store.tokenRequests.list({
    userRef: req.allUsers && !req.userId ? undefined : userRef,
    status: req.status,
    ...offsetPage(req),
    maxTimeMS,
  });
}

/** One request: the caller's own, or anybody's for a user admin. */
export async function readTokenRequest(store: Store, caller: Caller, id: string): Promise<TokenRequestDocument> {
  const doc = await store.tokenRequests.get(id);
  // Others' requests are invisible to non-admins: NOT_FOUND, not PERMISSION_DENIED.
  if (!doc || (!doc.user_ref.equals(caller.userRef) && !holds(caller, Right.ADMIN_USERS_READ))) {
    throw errTokenRequestNotFound({ id });
  }
  return doc;
}

/** Move request `id` on from status `from`, or fail naming the status it has. */
function transition(
  store: Store,
  id: string,
  from: TokenRequestStatusName,
  to: (current: TokenRequestDocument) => TokenRequestDocument,
): Promise<TokenRequestDocument> {
  return store.tokenRequests.update(
    id,
    (current) => {
      if (current.status !== from) throw errTokenRequestState({ id, status: current.status, expected: from });
      return to(current);
    },
    { missing: () => errTokenRequestNotFound({ id }), busy: () => errTokenBusy({}) },
  );
}

/** Grant a pending request, approving a REQUESTED requester first unless asked not to. */
export async function grantTokenRequest(
  deps: { store: Store; mail: EmailQueue },
  caller: Caller,
  req: { id: string; note: string; expiresAt?: { seconds: bigint; nanos: number }; approveUser?: boolean },
): Promise<TokenRequestDocument> {
  const expiresAt = expiryOrNull(req.expiresAt, "expires_at");
  // The requester is approved first: a retry after a crash in between
  // finds the request still pending and the account already approved.
  if (req.approveUser ?? true) {
    const request = await readTokenRequest(deps.store, caller, req.id);
    if (request.status === "PENDING") await approveRequester(deps, request.user_ref, caller.userId);
  }
  return transition(deps.store, req.id, "PENDING", (current) => ({
    ...current,
    status: "GRANTED",
    decided_at: new Date(),
    decided_by: caller.userId,
    decision_note: req.note,
    expires_at: expiresAt,
  }));
}

/** Deny a pending request. */
export function denyTokenRequest(
  store: Store,
  caller: Caller,
  req: { id: string; note: string },
): Promise<TokenRequestDocument> {
  return transition(store, req.id, "PENDING", (current) => ({
    ...current,
    status: "DENIED",
    decided_at: new Date(),
    decided_by: caller.userId,
    decision_note: req.note,
  }));
}

/** The key of the caller's granted request, minted once: the request becomes RETRIEVED. */
export async function retrieveTokenRequestKey(
  store: Store,
  caller: Caller,
  id: string,
): Promise<{ apiKey: APIKey; key: string }> {
  const request = await readTokenRequest(store, caller, id);
  if (!request.user_ref.equals(caller.userRef)) throw errMissingRight({ right: "ownership of the request" });
  if (request.status !== "GRANTED") {
    throw errTokenRequestState({ id, status: request.status, expected: "GRANTED" });
  }
  const user = await targetUser(store, caller, caller.userId);
  // The request moves to RETRIEVED before the key exists, so that two
  // concurrent retrievals cannot both mint a key; only the winner does.
  const keyId = newRecordId(apiKeyIdPrefix);
  await transition(store, id, "GRANTED", (current) => ({ ...current, status: "RETRIEVED", api_key_id: keyId }));
  const key = await issueApiKey(store, user, {
    id: keyId,
    name: request.name,
    rights: request.rights.map((n) => Right[n as keyof typeof Right]).filter((r) => r !== undefined),
    expiresAt: request.expires_at,
    createdBy: request.decided_by,
    // The request is already RETRIEVED: failing now would lose the key.
    nameTaken: "suffix",
  });
  return { apiKey: await issuedKeyOf(store, user, key), key: key.secret };
}
