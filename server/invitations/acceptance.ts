import {
  errInvitationBusy,
  errInvitationExpired,
  errInvitationRevoked,
  errInvitationTokenUnknown,
  errInvitationUsed,
  invalidArgument,
} from "../../shared/errors.js";
import { hashToken, tokenKind } from "../secrets/token-format.js";
import { effectiveStatus, type InvitationDocument, releasedKey } from "../store/invitations-store.js";
import type { Store } from "../store/store.js";

/**
 * The pending invitation a token belongs to. Unknown, expired, revoked and
 * used tokens each fail with their own documented error.
 */
export async function invitationOfToken(store: Store, token: string): Promise<InvitationDocument> {
  if (tokenKind(token) !== "invitation") {
    throw invalidArgument([{ field: "invitation_token", description: "is not an invitation token (rst_iv_...)" }]);
  }
  const doc = await store.invitations.getByTokenHash(hashToken(token));
  if (!doc) throw errInvitationTokenUnknown({});
  switch (effectiveStatus(doc)) {
    case "PENDING":
      return doc;
    case "EXPIRED":
      throw errInvitationExpired({ expired_at: doc.expires_at.toISOString() });
    case "REVOKED":
      throw errInvitationRevoked({});
    case "ACCEPTED":
      throw errInvitationUsed({});
  }
}

/**
 * Record that `userId` was created with the invitation. The user exists
 * already: creating it first lets the unique email index decide which of
 * several concurrent registrations with one token wins.
 */
export async function markAccepted(store: Store, invitation: InvitationDocument, userId: string): Promise<void> {
  await store.invitations.update(
    invitation._id,
    (current) =>
      current.status === "ACCEPTED"
        ? undefined
        : {
            ...current,
            status: "ACCEPTED",
            accepted_at: new Date(),
            accepted_by: userId,
            pending_key: releasedKey(current),
          },
    { missing: () => errInvitationTokenUnknown({}), busy: () => errInvitationBusy({}) },
  );
}
