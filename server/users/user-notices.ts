import type { EmailQueue } from "../email/email-queue.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";

/** Tell the approved admins that somebody registered and awaits approval. */
export async function mailAdminsOfRequest(deps: { store: Store; mail: EmailQueue }, doc: UserDocument): Promise<void> {
  const admins = await deps.store.users.list({
    filter: { deleted: false, admin: true, states: ["APPROVED"] },
    order: { field: "user_id", descending: false },
    skip: 0,
    limit: 100,
    fields: ["primary_email_address"],
    count: "none",
  });
  for (const a of admins.users) {
    if (!a.primary_email_address) continue;
    await deps.mail.enqueue(a.primary_email_address, {
      kind: "registration_pending",
      userId: doc.user_id,
      name: doc.name,
      email: doc.primary_email_address,
    });
  }
}

/** Tell a user that their state changed, and why. */
export function mailStateChange(mail: EmailQueue, after: UserDocument): Promise<void> {
  return mail.enqueue(after.primary_email_address, {
    kind: "state_changed",
    userId: after.user_id,
    state: after.state,
    description: after.state_description,
  });
}
