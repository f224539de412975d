import type { State, User } from "../gen/roster/v1/user_pb.js";

/** The values of the user form; admin-only fields are absent for others. */
export interface UserDraft {
  name: string;
  description: string;
  primaryEmailAddress: string;
  state?: State;
  stateDescription?: string;
  admin?: boolean;
}

/**
 * The update mask for `draft` against the user as it was read: exactly the
 * paths whose values differ, named as in the proto. Sending only those keeps
 * a concurrent change of another field intact and never names an
 * admin-only path a non-admin did not touch.
 */
export function changedPaths(before: User, draft: UserDraft): string[] {
  const paths: string[] = [];
  if (draft.name !== before.name) paths.push("name");
  if (draft.description !== before.description) paths.push("description");
  if (draft.primaryEmailAddress !== before.primaryEmailAddress) paths.push("primary_email_address");
  if (draft.state !== undefined && draft.state !== before.state) paths.push("state");
  if (draft.stateDescription !== undefined && draft.stateDescription !== before.stateDescription) {
    paths.push("state_description");
  }
  if (draft.admin !== undefined && draft.admin !== before.admin) paths.push("admin");
  return paths;
}
