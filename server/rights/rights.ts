import { Right } from "../../gen/roster/v1/rights_pb.js";

/** Rights every user has over their own account. */
export const userRights: readonly Right[] = [
  Right.USER_INFO,
  Right.USER_SETTINGS,
  Right.USER_API_KEYS,
  Right.USER_PASSWORD,
  Right.USER_DELETE,
];

/** Rights only approved admins have. */
export const adminRights: readonly Right[] = [
  Right.ADMIN_USERS_READ,
  Right.ADMIN_USERS_WRITE,
  Right.ADMIN_INVITATIONS,
  Right.SCIM,
  Right.ADMIN_WEBHOOKS,
];

/** Replace the *_ALL rights by what they stand for. */
export function expandRights(rights: Iterable<Right>): Set<Right> {
  const out = new Set<Right>();
  for (const right of rights) {
    if (right === Right.USER_ALL) for (const r of userRights) out.add(r);
    else if (right === Right.ADMIN_ALL) for (const r of adminRights) out.add(r);
    else if (right !== Right.UNSPECIFIED) out.add(right);
  }
  return out;
}

/** Everything a user may hold: user rights, plus admin rights for admins. */
export function rightsOfUser(admin: boolean): Set<Right> {
  return new Set(admin ? [...userRights, ...adminRights] : userRights);
}

/**
 * What a user in `state` may do right now. APPROVED users hold their
 * rights; REQUESTED users (awaiting approval) may only look at their
 * account and change their password; every other state holds nothing.
 */
export function rightsInState(admin: boolean, state: string): Set<Right> {
  if (state === "APPROVED") return rightsOfUser(admin);
  if (state === "REQUESTED") return new Set([Right.USER_INFO, Right.USER_PASSWORD]);
  return new Set();
}

/** The short stored name of a right (`USER_INFO`). */
export function rightName(right: Right): string {
  const name = Right[right];
  if (!name || right === Right.UNSPECIFIED) throw new Error(`invalid right ${right}`);
  return name;
}

/** A right from its stored or printed name, with or without `RIGHT_`. */
export function rightFromName(name: string): Right | undefined {
  const value = (Right as unknown as Record<string, Right>)[name.replace(/^RIGHT_/, "")];
  return value === undefined || value === Right.UNSPECIFIED ? undefined : value;
}
