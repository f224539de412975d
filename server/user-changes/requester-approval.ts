import type { EmailQueue } from "../email/email-queue.js";
import type { Store } from "../store/store.js";
import type { UserRef } from "../store/user-documents.js";
import { changeUser } from "./user-changes.js";
import { mailStateChange } from "./user-notices.js";

/** Approve a REQUESTED account (REANA's grant of a token lets its user work), and tell them. */
export async function approveRequester(
  deps: { store: Store; mail: EmailQueue },
  ref: UserRef,
  actor: string,
): Promise<void> {
  const user = await deps.store.users.getDocumentByRef(ref);
  if (user?.state !== "REQUESTED") return;
  const after = await changeUser(
    deps.store,
    user.user_id,
    (current) =>
      current.state === "REQUESTED" ? { ...current, state: "APPROVED", updated_at: new Date() } : undefined,
    { actor },
  );
  if (after.state === "APPROVED") await mailStateChange(deps.mail, after);
}
