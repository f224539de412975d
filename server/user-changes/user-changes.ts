import { errAdminChangeBusy, errLastAdmin, errSystemUser } from "../../shared/errors.js";
import type { Store } from "../store/store.js";
import { systemUserId, type UserDocument } from "../store/user-documents.js";
import type { UserFilter } from "../store/user-filters.js";
import type { OthersRemain, UpdateOptions, UserChange } from "../store/users-store.js";

/** The users who count as admins: approved, not deleted. */
export const approvedAdmins: UserFilter = { deleted: false, admin: true, states: ["APPROVED"] };

/** Whether the user is one of approvedAdmins. */
export function isActiveAdmin(doc: Pick<UserDocument, "admin" | "state" | "deleted_at">): boolean {
  return doc.admin && doc.state === "APPROVED" && doc.deleted_at === null;
}

/**
 * Roster must keep an approved admin: a change that takes the last one away
 * (demotion, suspension, deletion, purge, merge) fails with LAST_ADMIN. The
 * store checks it under one lock for all such changes, so that two admins
 * demoting each other at once cannot both succeed.
 */
function keepsAnAdmin(current: UserDocument, next?: UserDocument): OthersRemain | undefined {
  if (!isActiveAdmin(current) || (next && isActiveAdmin(next))) return undefined;
  return {
    lock: "admins",
    others: approvedAdmins,
    otherwise: (target) => errLastAdmin({ user_id: target.user_id }),
    busy: () => errAdminChangeBusy({}),
  };
}

/** The built-in system user changes only by the server's own hand (see system-user.ts). */
function requireChangeable(userId: string, actor: string): void {
  if (userId === systemUserId && actor !== systemUserId) throw errSystemUser({});
}

/**
 * Change one user under the rules every change keeps: the system user is
 * the server's, and an approved admin remains. Every write to an existing
 * user goes through here.
 */
export function changeUser(
  store: Store,
  userId: string,
  change: UserChange,
  options: Omit<UpdateOptions, "guard">,
): Promise<UserDocument> {
  requireChangeable(userId, options.actor);
  return store.users.update(userId, change, { ...options, guard: keepsAnAdmin });
}

/**
 * Refuse early, without the lock, a step that would take the last approved
 * admin away (a merge, before it moves anything); the change itself is
 * checked again under the lock by changeUser.
 */
export async function requireAnotherAdmin(store: Store, current: UserDocument): Promise<void> {
  const guard = keepsAnAdmin(current);
  if (!guard) return;
  const others = await store.users.list({
    filter: guard.others,
    order: { field: "user_id", descending: false },
    skip: 0,
    limit: 2,
    fields: [],
    count: "none",
  });
  if (!others.users.some((u) => u.user_id !== current.user_id)) throw guard.otherwise(current);
}

/** Remove a user for good, under the same rules as changeUser. Returns the removed document. */
export function removeUser(store: Store, userId: string): Promise<UserDocument> {
  if (userId === systemUserId) throw errSystemUser({});
  return store.users.purge(userId, { guard: (current) => keepsAnAdmin(current) });
}
