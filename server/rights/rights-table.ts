import type { DescMethod } from "@bufbuild/protobuf";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { RequestEmailValidationRequest } from "../../gen/roster/v1/self_service_pb.js";
import type {
  CreateAPIKeyRequest,
  DeleteAPIKeyRequest,
  ExpireAPIKeyRequest,
  GetAPIKeyRequest,
  ListAPIKeysRequest,
  RevokeTokensRequest,
  UpdateAPIKeyRequest,
} from "../../gen/roster/v1/user_access_pb.js";
import type { ListAgreementsRequest } from "../../gen/roster/v1/user_agreements_pb.js";
import type {
  ActivateUserRequest,
  DeleteUserRequest,
  GetUserRequest,
  MergeUsersRequest,
  UpdateUserRequest,
} from "../../gen/roster/v1/user_registry_pb.js";

/**
 * What an RPC needs from its caller.
 * - `public`: nothing, and credentials are not even looked at (a stale key
 *   must not break health checks or logging in).
 * - `anonymous`: nothing, but a token that is sent must be valid (the
 *   handler may act on the caller, as Create does for admins).
 * - `authenticated`: any valid token (the handler checks further).
 * - `right`: an authenticated caller holding it.
 * - `self`/`others`: the request names a user (`target`; empty means the
 *   caller); acting on oneself needs `self`, on somebody else `others`.
 */
export type AccessRule =
  | { public: true }
  | { anonymous: true }
  | { authenticated: true }
  | { right: Right }
  // biome-ignore lint/suspicious/noExplicitAny: the table holds rules of many request types.
  | { self: Right; others: Right; target: (request: any) => string };

function userRule<R>(self: Right, others: Right, target: (request: R) => string): AccessRule {
  return { self, others, target };
}

/** The user whose settings a UserSettings request is about. */
const settingsOwner = (request: { userId: string }) => request.userId;

/**
 * The rights table: one line per RPC, checked by the auth interceptor before
 * the handler runs. A method missing here is refused, so a new RPC is closed
 * until somebody decides who may call it. Finer checks that depend on the
 * request's content (admin-only fields) happen in the field-mask rules.
 */
export const accessRules: Record<string, AccessRule> = {
  "grpc.health.v1.Health/Check": { public: true },
  "grpc.health.v1.Health/Watch": { public: true },
  "grpc.health.v1.Health/List": { public: true },
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo": { public: true },
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": { public: true },

  // Create checks the registration mode and admin fields itself.
  "roster.v1.UserRegistry/Create": { anonymous: true },
  "roster.v1.UserRegistry/Get": userRule<GetUserRequest>(Right.USER_INFO, Right.USER_INFO, (r) => r.userId),
  "roster.v1.UserRegistry/GetCurrent": { right: Right.USER_INFO },
  "roster.v1.UserRegistry/BatchGet": { right: Right.USER_INFO },
  "roster.v1.UserRegistry/List": { right: Right.ADMIN_USERS_READ },
  "roster.v1.UserRegistry/Search": { right: Right.ADMIN_USERS_READ },
  "roster.v1.UserRegistry/Update": userRule<UpdateUserRequest>(
    Right.USER_SETTINGS,
    Right.ADMIN_USERS_WRITE,
    (r) => r.user?.userId ?? "",
  ),
  "roster.v1.UserRegistry/Delete": userRule<DeleteUserRequest>(
    Right.USER_DELETE,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),
  "roster.v1.UserRegistry/Restore": { right: Right.ADMIN_USERS_WRITE },
  "roster.v1.UserRegistry/Purge": { right: Right.ADMIN_USERS_WRITE },
  "roster.v1.UserRegistry/Setup": { right: Right.ADMIN_USERS_WRITE },
  "roster.v1.UserRegistry/Unsetup": { right: Right.ADMIN_USERS_WRITE },
  // Arvados: users activate themselves (also while REQUESTED), admins anybody.
  "roster.v1.UserRegistry/Activate": userRule<ActivateUserRequest>(
    Right.USER_INFO,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),
  // The old user may merge itself with a token of the new one, checked by the handler.
  "roster.v1.UserRegistry/Merge": userRule<MergeUsersRequest>(
    Right.USER_DELETE,
    Right.ADMIN_USERS_WRITE,
    (r) => r.oldUserId,
  ),
  "roster.v1.UserRegistry/Rename": { right: Right.ADMIN_USERS_WRITE },

  "roster.v1.UserAccess/Authenticate": { public: true },
  "roster.v1.UserAccess/Logout": { authenticated: true },
  "roster.v1.UserAccess/ListRights": { authenticated: true },
  "roster.v1.UserAccess/CreateAPIKey": userRule<CreateAPIKeyRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),
  "roster.v1.UserAccess/ListAPIKeys": userRule<ListAPIKeysRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_READ,
    (r) => r.userId,
  ),
  "roster.v1.UserAccess/GetAPIKey": userRule<GetAPIKeyRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_READ,
    (r) => r.userId,
  ),
  "roster.v1.UserAccess/UpdateAPIKey": userRule<UpdateAPIKeyRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_WRITE,
    (r) => r.apiKey?.userId ?? "",
  ),
  "roster.v1.UserAccess/DeleteAPIKey": userRule<DeleteAPIKeyRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),
  "roster.v1.UserAccess/ExpireAPIKey": userRule<ExpireAPIKeyRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),
  "roster.v1.UserAccess/RevokeTokens": userRule<RevokeTokensRequest>(
    Right.USER_API_KEYS,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),
  "roster.v1.UserAccess/UpdatePassword": { right: Right.USER_PASSWORD },
  "roster.v1.UserAccess/CreateTemporaryPassword": { right: Right.ADMIN_USERS_WRITE },
  // Asking for a key and following the request need only USER_INFO, which
  // an account awaiting approval holds: REANA's users request their token
  // before an admin lets them in (a grant approves them).
  "roster.v1.UserAccess/CreateTokenRequest": { right: Right.USER_INFO },
  // Own requests need USER_INFO; others' (or all) ADMIN_USERS_READ, checked by the handler.
  "roster.v1.UserAccess/ListTokenRequests": { right: Right.USER_INFO },
  "roster.v1.UserAccess/GetTokenRequest": { right: Right.USER_INFO },
  "roster.v1.UserAccess/GrantTokenRequest": { right: Right.ADMIN_USERS_WRITE },
  "roster.v1.UserAccess/DenyTokenRequest": { right: Right.ADMIN_USERS_WRITE },
  "roster.v1.UserAccess/RetrieveTokenRequestKey": { right: Right.USER_API_KEYS },

  // Self-service: a link's token (or an email address) is the credential;
  // requests about an address answer alike whether it exists or not.
  "roster.v1.SelfService/GetOptions": { public: true },
  "roster.v1.SelfService/CheckPassword": { public: true },
  "roster.v1.SelfService/RequestPasswordReset": { public: true },
  "roster.v1.SelfService/ResetPassword": { public: true },
  "roster.v1.SelfService/ValidateEmail": { public: true },
  "roster.v1.SelfService/DescribeLink": { public: true },
  "roster.v1.SelfService/RequestEmailValidation": userRule<RequestEmailValidationRequest>(
    Right.USER_INFO,
    Right.ADMIN_USERS_WRITE,
    (r) => r.userId,
  ),

  "roster.v1.InvitationRegistry/Send": { right: Right.ADMIN_INVITATIONS },
  "roster.v1.InvitationRegistry/Get": { right: Right.ADMIN_INVITATIONS },
  "roster.v1.InvitationRegistry/List": { right: Right.ADMIN_INVITATIONS },
  "roster.v1.InvitationRegistry/Delete": { right: Right.ADMIN_INVITATIONS },
  "roster.v1.InvitationRegistry/Resend": { right: Right.ADMIN_INVITATIONS },

  // An empty user_id means the caller's own settings.
  "roster.v1.UserAgreements/List": userRule<ListAgreementsRequest>(
    Right.USER_INFO,
    Right.ADMIN_USERS_READ,
    (r) => r.userId,
  ),
  "roster.v1.UserAgreements/Set": { right: Right.ADMIN_USERS_WRITE },
  "roster.v1.UserAgreements/Delete": { right: Right.ADMIN_USERS_WRITE },
  // Users awaiting activation (REQUESTED) hold USER_INFO and must be able to accept.
  "roster.v1.UserAgreements/Accept": { right: Right.USER_INFO },
  "roster.v1.UserSettings/List": userRule(Right.USER_INFO, Right.ADMIN_USERS_READ, settingsOwner),
  "roster.v1.UserSettings/Get": userRule(Right.USER_INFO, Right.ADMIN_USERS_READ, settingsOwner),
  "roster.v1.UserSettings/Set": userRule(Right.USER_SETTINGS, Right.ADMIN_USERS_WRITE, settingsOwner),
  "roster.v1.UserSettings/Replace": userRule(Right.USER_SETTINGS, Right.ADMIN_USERS_WRITE, settingsOwner),
  "roster.v1.UserSettings/Delete": userRule(Right.USER_SETTINGS, Right.ADMIN_USERS_WRITE, settingsOwner),

  // Admins (RIGHT_ADMIN_USERS_READ) see every event, others their own: checked by the handler.
  "roster.v1.Events/List": { authenticated: true },
  "roster.v1.Events/Stream": { authenticated: true },

  // Webhooks receive every event they name, about everybody.
  "roster.v1.Webhooks/Create": { right: Right.ADMIN_WEBHOOKS },
  "roster.v1.Webhooks/List": { right: Right.ADMIN_WEBHOOKS },
  "roster.v1.Webhooks/Get": { right: Right.ADMIN_WEBHOOKS },
  "roster.v1.Webhooks/Update": { right: Right.ADMIN_WEBHOOKS },
  "roster.v1.Webhooks/Delete": { right: Right.ADMIN_WEBHOOKS },
  "roster.v1.Webhooks/Test": { right: Right.ADMIN_WEBHOOKS },
  "roster.v1.Webhooks/ListDeliveries": { right: Right.ADMIN_WEBHOOKS },

  // Password hashes in an export also need ADMIN_USERS_WRITE, checked by the handler.
  "roster.v1.UserBulk/Export": { right: Right.ADMIN_USERS_READ },
  "roster.v1.UserBulk/Import": { right: Right.ADMIN_USERS_WRITE },
};

export function accessRuleOf(method: DescMethod): AccessRule | undefined {
  return accessRules[`${method.parent.typeName}/${method.name}`];
}
