import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";

const active = (d: UserDocument) => d.state === "APPROVED" && d.deleted_at === null;
/** REQUESTED users hold restricted keys (their own info and password). */
const holdsTokens = (d: UserDocument) => (d.state === "APPROVED" || d.state === "REQUESTED") && d.deleted_at === null;

/**
 * Whether a change deactivates the user, who then loses every token at once:
 * leaving APPROVED, or being rejected, flagged, suspended or deleted from any
 * state. Reactivation does not bring tokens back.
 */
export function isDeactivation(before: UserDocument, after: UserDocument): boolean {
  return (active(before) && !active(after)) || (holdsTokens(before) && !holdsTokens(after));
}

/** Revoke every token of a user whom the change from `before` to `after` deactivated. */
export async function revokeIfDeactivated(store: Store, before: UserDocument, after: UserDocument): Promise<void> {
  if (isDeactivation(before, after)) await store.tokens.deleteMany({ userRef: after.ref });
}
