import { Right } from "../gen/roster/v1/rights_pb.js";

/** The rights a user may give a key of theirs, with what each allows. */
export const userRights: readonly (readonly [Right, string])[] = [
  [Right.USER_INFO, "Read the account"],
  [Right.USER_SETTINGS, "Change the profile and settings"],
  [Right.USER_API_KEYS, "Manage API keys and tokens"],
  [Right.USER_PASSWORD, "Change the password"],
  [Right.USER_DELETE, "Delete the account"],
  [Right.USER_ALL, "Every user right, including later ones"],
];

/** The rights only an approved admin's key can use. */
export const adminRights: readonly (readonly [Right, string])[] = [
  [Right.ADMIN_USERS_READ, "Admin: read every user"],
  [Right.ADMIN_USERS_WRITE, "Admin: change users and their credentials"],
  [Right.ADMIN_INVITATIONS, "Admin: invitations"],
  [Right.SCIM, "Admin: SCIM provisioning"],
  [Right.ADMIN_ALL, "Every admin right, including later ones"],
];

/** A right as the CLI spells it: `RIGHT_USER_INFO` -> `user_info`. */
export function rightName(right: Right): string {
  return (Right[right] ?? String(right)).toLowerCase();
}
