import type { DescMethod } from "@bufbuild/protobuf";

/**
 * What an RPC's success records. `users` and `objects` read the request and
 * the response (protobuf-es messages, camelCase); `paths` the changed
 * fields. A method missing here changes nothing (reads), or records its
 * events itself (failed sign-ins, see event-interceptor.ts).
 */
export interface EventRule {
  /** Event names, one event each; usually one. */
  // biome-ignore lint/suspicious/noExplicitAny: the table holds rules of many message types.
  names: (req: any, res: any) => string[];
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  users: (req: any, res: any, callerId: string) => string[];
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  paths?: (req: any, res: any) => string[];
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  objects?: (req: any, res: any) => string[];
  /**
   * The change is made by versioned updates only (write-locks.ts), so a recovery
   * pass that finds none of its write locks knows it did not happen.
   */
  versioned?: boolean;
  /** Whether the call changed anything (a dry run or an empty mask did not). */
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  changes?: (req: any, res: any) => boolean;
}

const one = (name: string) => () => [name];
const maskPaths = (mask: { paths: string[] } | undefined) => [...(mask?.paths ?? [])];
/** The user a request names, or the caller when it names none. */
const target = (id: string | undefined, callerId: string) => [id || callerId].filter(Boolean);

export const eventRules: Record<string, EventRule> = {
  "roster.v1.UserRegistry/Create": {
    names: (req) => (req.invitationToken ? ["user.create", "invitation.accept"] : ["user.create"]),
    users: (_req, res) => [res.user?.userId].filter(Boolean),
    objects: (_req, res) => [res.user?.primaryEmailAddress].filter(Boolean),
  },
  "roster.v1.UserRegistry/Update": {
    names: one("user.update"),
    users: (req) => [req.user?.userId],
    paths: (req) => maskPaths(req.updateMask),
    changes: (req) => maskPaths(req.updateMask).length > 0,
    versioned: true,
  },
  "roster.v1.UserRegistry/Delete": {
    names: one("user.delete"),
    users: (req, _res, c) => target(req.userId, c),
    versioned: true,
  },
  "roster.v1.UserRegistry/Restore": { names: one("user.restore"), users: (req) => [req.userId], versioned: true },
  "roster.v1.UserRegistry/Purge": { names: one("user.purge"), users: (req) => [req.userId] },
  "roster.v1.UserRegistry/Setup": { names: one("user.setup"), users: (req) => [req.userId], versioned: true },
  "roster.v1.UserRegistry/Unsetup": { names: one("user.unsetup"), users: (req) => [req.userId], versioned: true },
  "roster.v1.UserRegistry/Activate": {
    names: one("user.activate"),
    users: (req, _res, c) => target(req.userId, c),
  },
  "roster.v1.UserAgreements/Set": {
    names: one("agreement.set"),
    users: () => [],
    objects: (req) => [req.agreement?.id],
  },
  "roster.v1.UserAgreements/Delete": { names: one("agreement.delete"), users: () => [], objects: (req) => [req.id] },
  "roster.v1.UserAgreements/Accept": {
    names: one("agreement.accept"),
    users: (_req, _res, c) => [c],
    objects: (req) => [req.id],
  },
  "roster.v1.UserRegistry/Merge": {
    names: one("user.merge"),
    users: (req) => [req.oldUserId, req.newUserId],
  },
  "roster.v1.UserRegistry/Rename": {
    names: one("user.rename"),
    users: (req) => [req.userId, req.newUserId],
    paths: () => ["user_id"],
  },

  "roster.v1.UserAccess/Authenticate": {
    names: one("user.login"),
    users: (_req, res) => [res.userId],
  },
  "roster.v1.SelfService/ResetPassword": {
    names: one("password.reset"),
    users: (_req, res) => [res.userId],
    paths: () => ["password"],
  },
  "roster.v1.SelfService/ValidateEmail": {
    names: one("user.email.validate"),
    users: (_req, res) => [res.userId],
    paths: () => ["primary_email_address_validated_at"],
  },
  "roster.v1.UserAccess/Logout": { names: one("user.logout"), users: (_req, _res, c) => [c] },
  "roster.v1.UserAccess/CreateAPIKey": {
    names: one("api_key.create"),
    users: (req, _res, c) => target(req.userId, c),
    objects: (_req, res) => [res.apiKey?.id],
  },
  "roster.v1.UserAccess/UpdateAPIKey": {
    names: one("api_key.update"),
    users: (req, _res, c) => target(req.apiKey?.userId, c),
    paths: (req) => maskPaths(req.updateMask),
    objects: (req) => [req.apiKey?.id],
    changes: (req) => maskPaths(req.updateMask).length > 0,
  },
  "roster.v1.UserAccess/DeleteAPIKey": {
    names: one("api_key.delete"),
    users: (req, _res, c) => target(req.userId, c),
    objects: (req) => [req.id],
  },
  "roster.v1.UserAccess/ExpireAPIKey": {
    names: one("api_key.expire"),
    users: (req, _res, c) => target(req.userId, c),
    objects: (_req, res) => [res.apiKey?.id],
  },
  "roster.v1.UserAccess/RevokeTokens": {
    names: (req) => [["token.revoke", "token.revoke.login", "token.revoke.api_key"][req.kind] ?? "token.revoke.all"],
    users: (req, _res, c) => target(req.userId, c),
  },
  "roster.v1.UserAccess/UpdatePassword": {
    names: one("password.update"),
    users: (_req, _res, c) => [c],
    paths: () => ["password"],
  },
  "roster.v1.UserAccess/CreateTemporaryPassword": {
    names: one("password.temporary"),
    users: (req) => [req.userId],
    paths: () => ["password", "require_password_update"],
  },
  "roster.v1.UserAccess/CreateTokenRequest": {
    names: one("token_request.create"),
    users: (_req, res, c) => [res.tokenRequest?.userId || c],
    objects: (_req, res) => [res.tokenRequest?.id],
  },
  "roster.v1.UserAccess/GrantTokenRequest": {
    names: one("token_request.grant"),
    users: (_req, res) => [res.tokenRequest?.userId],
    objects: (req) => [req.id],
  },
  "roster.v1.UserAccess/DenyTokenRequest": {
    names: one("token_request.deny"),
    users: (_req, res) => [res.tokenRequest?.userId],
    objects: (req) => [req.id],
  },
  "roster.v1.UserAccess/RetrieveTokenRequestKey": {
    names: one("api_key.create"),
    users: (_req, res) => [res.apiKey?.userId],
    objects: (req, res) => [res.apiKey?.id, req.id],
  },

  "roster.v1.InvitationRegistry/Send": {
    names: one("invitation.send"),
    users: () => [],
    objects: (req) => [req.email],
  },
  "roster.v1.InvitationRegistry/Delete": {
    names: one("invitation.delete"),
    users: () => [],
    objects: (req) => [req.email],
  },
  "roster.v1.InvitationRegistry/Resend": {
    names: one("invitation.resend"),
    users: () => [],
    objects: (req) => [req.email],
  },

  "roster.v1.UserSettings/Set": {
    names: one("setting.set"),
    users: (req, _res, c) => target(req.userId, c),
    paths: (req) => [req.key],
  },
  "roster.v1.UserSettings/Replace": {
    names: one("setting.replace"),
    users: (req, _res, c) => target(req.userId, c),
    paths: (req) => Object.keys(req.settings ?? {}),
  },
  "roster.v1.UserSettings/Delete": {
    names: one("setting.delete"),
    users: (req, _res, c) => target(req.userId, c),
    paths: (req) => [req.key],
  },

  "roster.v1.UserBulk/Import": {
    names: one("user.import"),
    // Created (1) and updated (2) rows.
    users: (_req, res) =>
      (res.results ?? [])
        .filter((r: { outcome: number }) => r.outcome === 1 || r.outcome === 2)
        .map((r: { userId: string }) => r.userId),
    changes: (req) => !req.dryRun,
  },

  // About no user: admins see them. The secret is in no request.
  "roster.v1.Webhooks/Create": {
    names: one("webhook.create"),
    users: () => [],
    objects: (_req, res) => [res.webhook?.id],
  },
  "roster.v1.Webhooks/Update": {
    names: one("webhook.update"),
    users: () => [],
    paths: (req) => maskPaths(req.updateMask),
    objects: (req) => [req.webhook?.id],
    changes: (req) => maskPaths(req.updateMask).length > 0,
  },
  "roster.v1.Webhooks/Delete": { names: one("webhook.delete"), users: () => [], objects: (req) => [req.id] },
};

export function eventRuleOf(method: DescMethod): EventRule | undefined {
  return eventRules[`${method.parent.typeName}/${method.name}`];
}
