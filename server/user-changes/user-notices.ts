import type { EmailQueue } from "../email/email-queue.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";
import { approvedAdmins } from "./user-changes.js";

/** The addresses of the approved admins (the first 100), who hear of what needs an admin. */
export async function adminAddresses(store: Store): Promise<string[]> {
  const admins = await store.users.list({
    filter: approvedAdmins,
    order: { field: "user_id", descending: false },
    skip: 0,
    limit: 100,
    fields: ["primary_email_address"],
    count: "none",
  });
  return admins.users.map((a) => a.primary_email_address).filter((a): a is string => !!a);
}

/** Tell the approved admins that somebody registered and awaits approval. */
export async function mailAdminsOfRequest(deps: { store: Store; mail: EmailQueue }, doc: UserDocument): Promise<void> {
  for (const address of await adminAddresses(deps.store)) {
    await deps.mail.enqueue(address, {
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
