import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { TokenKind, TokenRequestStatus, type UserAccess } from "../../gen/roster/v1/user_access_pb.js";
import {
  errApiKeyNameTaken,
  errApiKeyNotFound,
  errIncorrectPassword,
  errMissingRight,
  errNotALoginToken,
  errReadOnlyFieldPaths,
  errRightsExceeded,
  errTokenBusy,
  errTokenRequestNotFound,
  errTokenRequestState,
  errUnknownFieldPaths,
  errUserNotFound,
  invalidArgument,
} from "../../shared/errors.js";
import { databaseTimeout } from "../deadline.js";
import type { EmailQueue } from "../email/email-queue.js";
import { offsetPage, sendTotalCount } from "../pagination.js";
import { apiKeyNameMaxChars, tokenRequestReasonMaxChars } from "../request-rules.js";
import { apiKeyFromDocument, tokenRequestFromDocument } from "../store/access-documents.js";
import type { Store } from "../store/store.js";
import type { TokenRequestDocument, TokenRequestStatusName } from "../store/token-requests-store.js";
import type { UserDocument } from "../store/user-documents.js";
import { longerThan } from "../text.js";
import { changeUser } from "../users/user-changes.js";
import { approveRequester } from "../users/user-state.js";
import { apiKeyByIdOrName, apiKeyIdPrefix, isApiKeyId, issueApiKey } from "./api-keys.js";
import { type Caller, holds, requireCaller, requireRight, signInAccountKey } from "./caller.js";
import type { LoginService } from "./login.js";
import type { PasswordHasher, PasswordPolicy } from "./passwords.js";
import { newTemporaryPassword, requireAcceptablePassword } from "./passwords.js";
import { expandRights, rightName, rightsOfUser } from "./rights.js";
import { setPassword } from "./set-password.js";
import { newRecordId } from "./token-format.js";

export interface UserAccessDeps {
  store: Store;
  mail: EmailQueue;
  login: LoginService;
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
  defaultDeadlineMs: number;
}

/** The user a request names, or the caller when it names none. */
async function targetUser(store: Store, caller: Caller, userId: string): Promise<UserDocument> {
  const id = userId || caller.userId;
  const user = await store.users.getDocument(id);
  if (!user) throw errUserNotFound({ user_id: id });
  return user;
}

/**
 * The rights a new key or request may carry: what was asked for (or, if
 * nothing, everything the granter holds), never more than the granter
 * holds nor more than the user may hold.
 */
function grantableRights(asked: readonly Right[], granter: ReadonlySet<Right>, userIsAdmin: boolean): Right[] {
  const holdable = rightsOfUser(userIsAdmin);
  if (asked.length === 0) return [...granter].filter((r) => holdable.has(r));
  const wanted = expandRights(asked);
  const excess = [...wanted].filter((r) => !granter.has(r) || !holdable.has(r));
  if (excess.length > 0) throw errRightsExceeded({ rights: excess.map((r) => `RIGHT_${rightName(r)}`).join(", ") });
  return [...new Set(asked)];
}

function validateName(name: string, field = "name") {
  if (!name.trim() || longerThan(name, apiKeyNameMaxChars)) {
    throw invalidArgument([{ field, description: `must be 1 to ${apiKeyNameMaxChars} characters` }]);
  }
  // Requests name a key by id or name in one field; an id-shaped name would be ambiguous.
  if (isApiKeyId(name)) throw invalidArgument([{ field, description: "must not have the form of an API key id" }]);
}

/**
 * How far in the past an expiry may be and still mean "now": a client's
 * "now" reaches the server a moment later, and clocks differ a little.
 */
const expiryLeewayMs = 60_000;

function expiryOrNull(ts: { seconds: bigint; nanos: number } | undefined, field: string): Date | null {
  if (!ts) return null;
  const date = timestampDate(ts as Parameters<typeof timestampDate>[0]);
  const now = Date.now();
  if (date.getTime() < now - expiryLeewayMs) {
    throw invalidArgument([{ field, description: "must not be in the past (to expire a key now, use ExpireAPIKey)" }]);
  }
  return date.getTime() < now ? new Date(now) : date;
}

export function userAccess(deps: UserAccessDeps): ServiceImpl<typeof UserAccess> {
  const { store } = deps;
  const timeout = databaseTimeout(deps.defaultDeadlineMs);
  const tokenErrors = { busy: () => errTokenBusy({}) };

  async function loadRequest(id: string, caller: Caller): Promise<TokenRequestDocument> {
    const doc = await store.tokenRequests.get(id);
    // Others' requests are invisible to non-admins: NOT_FOUND, not PERMISSION_DENIED.
    if (!doc || (!doc.user_ref.equals(caller.userRef) && !holds(caller, Right.ADMIN_USERS_READ))) {
      throw errTokenRequestNotFound({ id });
    }
    return doc;
  }

  function transition(
    id: string,
    from: TokenRequestStatusName,
    to: (current: TokenRequestDocument) => TokenRequestDocument,
  ) {
    return store.tokenRequests.update(
      id,
      (current) => {
        if (current.status !== from) throw errTokenRequestState({ id, status: current.status, expected: from });
        return to(current);
      },
      { missing: () => errTokenRequestNotFound({ id }), ...tokenErrors },
    );
  }

  return {
    async authenticate(req, ctx) {
      return deps.login.authenticate(req.userIdOrEmail, req.password, (id) => ctx.values.set(signInAccountKey, id));
    },

    async logout(_req, ctx) {
      const caller = requireCaller(ctx);
      if (caller.tokenKind !== "login") throw errNotALoginToken({});
      await store.tokens.delete(caller.userRef, "login", { key_id: caller.tokenId });
      return {};
    },

    async listRights(_req, ctx) {
      const caller = requireCaller(ctx);
      return {
        userId: caller.userId,
        admin: caller.admin,
        rights: [...caller.rights].sort((a, b) => a - b),
        tokenKind: caller.tokenKind,
        tokenId: caller.tokenId,
      };
    },

    async createAPIKey(req, ctx) {
      const caller = requireCaller(ctx);
      validateName(req.name);
      const user = await targetUser(store, caller, req.userId);
      const rights = grantableRights(req.rights, caller.rights, user.admin);
      const expiresAt = expiryOrNull(req.expiresAt, "expires_at");
      const key = await issueApiKey(store, user, {
        name: req.name,
        rights,
        expiresAt,
        createdBy: caller.userId,
        nameTaken: "fail",
      });
      const doc = await store.tokens.get(user.ref, "api_key", { key_id: key.id });
      if (!doc) throw errApiKeyNotFound({ id: key.id, user_id: user.user_id });
      if (req.sendEmail !== false) {
        await deps.mail.enqueue(user.primary_email_address, {
          kind: "api_key_created",
          userId: user.user_id,
          keyName: req.name,
          keyId: key.id,
          createdBy: caller.userId,
        });
      }
      return { apiKey: apiKeyFromDocument(doc, user.user_id), key: key.secret };
    },

    async listAPIKeys(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await targetUser(store, caller, req.userId);
      const page = offsetPage(req);
      const { tokens, total } = await store.tokens.list(user.ref, "api_key", { ...page, maxTimeMS: timeout(ctx) });
      sendTotalCount(ctx, total);
      return { apiKeys: tokens.map((doc) => apiKeyFromDocument(doc, user.user_id)), totalSize: BigInt(total) };
    },

    async getAPIKey(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await targetUser(store, caller, req.userId);
      const doc = await store.tokens.get(user.ref, "api_key", apiKeyByIdOrName(req.id));
      if (!doc) throw errApiKeyNotFound({ id: req.id, user_id: user.user_id });
      return { apiKey: apiKeyFromDocument(doc, user.user_id) };
    },

    async updateAPIKey(req, ctx) {
      const caller = requireCaller(ctx);
      const given = req.apiKey;
      const user = await targetUser(store, caller, given?.userId ?? "");
      const paths = req.updateMask?.paths ?? [];
      const updatable = ["name", "rights", "expires_at"];
      const unknown = paths.filter((p) => !updatable.includes(p));
      if (unknown.some((p) => ["id", "user_id", "created_at", "last_used_at", "created_by", "expired"].includes(p))) {
        throw errReadOnlyFieldPaths({ paths: unknown.join(", ") });
      }
      if (unknown.length > 0) throw errUnknownFieldPaths({ paths: unknown.join(", ") });
      const id = given?.id ?? "";
      if (paths.includes("name")) validateName(given?.name ?? "", "api_key.name");
      const rights = paths.includes("rights") ? grantableRights(given?.rights ?? [], caller.rights, user.admin) : [];
      const expiresAt = paths.includes("expires_at") ? expiryOrNull(given?.expiresAt, "api_key.expires_at") : null;
      const doc = await store.tokens.update(
        user.ref,
        "api_key",
        apiKeyByIdOrName(id),
        (current) => {
          if (paths.length === 0) return undefined;
          const next = { ...current };
          if (paths.includes("name")) next.name = given?.name ?? "";
          if (paths.includes("rights")) next.rights = rights.map(rightName);
          if (paths.includes("expires_at")) next.expires_at = expiresAt;
          return next;
        },
        {
          missing: () => errApiKeyNotFound({ id, user_id: user.user_id }),
          nameTaken: () => errApiKeyNameTaken({ name: given?.name ?? "", user_id: user.user_id }),
          ...tokenErrors,
        },
      );
      return { apiKey: apiKeyFromDocument(doc, user.user_id) };
    },

    async deleteAPIKey(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await targetUser(store, caller, req.userId);
      if (!(await store.tokens.delete(user.ref, "api_key", apiKeyByIdOrName(req.id)))) {
        throw errApiKeyNotFound({ id: req.id, user_id: user.user_id });
      }
      return {};
    },

    async expireAPIKey(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await targetUser(store, caller, req.userId);
      const now = new Date();
      const doc = await store.tokens.update(
        user.ref,
        "api_key",
        apiKeyByIdOrName(req.id),
        (current) => (current.expires_at && current.expires_at <= now ? undefined : { ...current, expires_at: now }),
        {
          missing: () => errApiKeyNotFound({ id: req.id, user_id: user.user_id }),
          // The name does not change: a taken name cannot happen.
          nameTaken: () => errTokenBusy({}),
          ...tokenErrors,
        },
      );
      return { apiKey: apiKeyFromDocument(doc, user.user_id, now) };
    },

    async revokeTokens(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await targetUser(store, caller, req.userId);
      const createdBefore = req.issuedBefore ? timestampDate(req.issuedBefore) : undefined;
      const revoke = (kind: "login" | "api_key") => store.tokens.deleteMany({ userRef: user.ref, kind, createdBefore });
      const logins = req.kind !== TokenKind.API_KEY;
      const keys = req.kind !== TokenKind.LOGIN;
      const onOther = user.user_id !== caller.userId;
      // An admin revoking another user's sign-ins makes the next password
      // login change the password (Conch's user_session_auth); API keys
      // that are kept keep working. One's own revocation is a logout.
      if (logins && onOther) {
        await changeUser(
          store,
          user.user_id,
          (current) =>
            current.require_password_update
              ? undefined
              : { ...current, require_password_update: true, updated_at: new Date() },
          { actor: caller.userId },
        );
      }
      const login = logins ? await revoke("login") : 0;
      const api = keys ? await revoke("api_key") : 0;
      if (onOther && (req.sendEmail ?? true)) {
        await deps.mail.enqueue(user.primary_email_address, {
          kind: "tokens_revoked",
          userId: user.user_id,
          what: logins && keys ? "login tokens and API keys" : logins ? "login tokens" : "API keys",
          by: caller.userId,
          mustChangePassword: logins,
        });
      }
      return { loginTokensRevoked: BigInt(login), apiKeysRevoked: BigInt(api) };
    },

    async updatePassword(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await targetUser(store, caller, caller.userId);
      const password = requireAcceptablePassword(
        req.newPassword,
        deps,
        { userId: user.user_id, email: user.primary_email_address },
        "new_password",
      );
      if (!(await deps.login.checkPassword(user, req.oldPassword))) throw errIncorrectPassword({});
      if (req.oldPassword === req.newPassword) {
        throw invalidArgument([{ field: "new_password", description: "must differ from the current password" }]);
      }
      const { user: updated, ...counts } = await setPassword(store, deps.hasher, user.user_id, {
        password,
        requirePasswordUpdate: false,
        clearTokens: req.clearTokens,
        actor: caller.userId,
      });
      await deps.mail.enqueue(updated.primary_email_address, { kind: "password_changed", userId: updated.user_id });
      return counts;
    },

    async createTemporaryPassword(req, ctx) {
      const caller = requireCaller(ctx);
      const user = await store.users.getDocument(req.userId);
      if (!user) throw errUserNotFound({ user_id: req.userId });
      const password = newTemporaryPassword();
      const { user: updated, ...counts } = await setPassword(store, deps.hasher, user.user_id, {
        password,
        requirePasswordUpdate: true,
        clearTokens: req.clearTokens,
        actor: caller.userId,
      });
      if (req.sendEmail ?? true) {
        await deps.mail.enqueue(updated.primary_email_address, {
          kind: "temporary_password",
          userId: updated.user_id,
          password,
        });
        return { temporaryPassword: "", ...counts };
      }
      return { temporaryPassword: password, ...counts };
    },

    async createTokenRequest(req, ctx) {
      const caller = requireCaller(ctx);
      validateName(req.name);
      if (!req.reason.trim() || longerThan(req.reason, tokenRequestReasonMaxChars)) {
        throw invalidArgument([
          { field: "reason", description: `must be 1 to ${tokenRequestReasonMaxChars} characters` },
        ]);
      }
      // Asking is limited by what the user may hold, not by the asking token.
      const rights = grantableRights(req.rights, rightsOfUser(caller.admin), caller.admin);
      const doc: TokenRequestDocument = {
        _id: newRecordId("tr"),
        user_id: caller.userId,
        user_ref: caller.userRef,
        name: req.name,
        rights: rights.map(rightName),
        reason: req.reason,
        status: "PENDING",
        created_at: new Date(),
        decided_at: null,
        decided_by: "",
        decision_note: "",
        expires_at: null,
        api_key_id: "",
        revision: 1,
      };
      await store.tokenRequests.insert(doc);
      return { tokenRequest: tokenRequestFromDocument(doc) };
    },

    async listTokenRequests(req, ctx) {
      const caller = requireCaller(ctx);
      let userRef = caller.userRef;
      if (req.allUsers || (req.userId && req.userId !== caller.userId)) {
        requireRight(caller, Right.ADMIN_USERS_READ);
        if (req.userId) userRef = (await targetUser(store, caller, req.userId)).ref;
      }
      const status =
        req.status === TokenRequestStatus.UNSPECIFIED
          ? undefined
          : (TokenRequestStatus[req.status] as TokenRequestStatusName | undefined);
      const page = offsetPage(req);
      const { requests, total } = await store.tokenRequests.list({
        userRef: req.allUsers && !req.userId ? undefined : userRef,
        status,
        ...page,
        maxTimeMS: timeout(ctx),
      });
      sendTotalCount(ctx, total);
      return { tokenRequests: requests.map(tokenRequestFromDocument), totalSize: BigInt(total) };
    },

    async getTokenRequest(req, ctx) {
      const caller = requireCaller(ctx);
      return { tokenRequest: tokenRequestFromDocument(await loadRequest(req.id, caller)) };
    },

    async grantTokenRequest(req, ctx) {
      const caller = requireCaller(ctx);
      const expiresAt = expiryOrNull(req.expiresAt, "expires_at");
      // The requester is approved first: a retry after a crash in between
      // finds the request still pending and the account already approved.
      if (req.approveUser ?? true) {
        const request = await loadRequest(req.id, caller);
        if (request.status === "PENDING") await approveRequester(deps, request.user_ref, caller.userId);
      }
      const doc = await transition(req.id, "PENDING", (current) => ({
        ...current,
        status: "GRANTED",
        decided_at: new Date(),
        decided_by: caller.userId,
        decision_note: req.note,
        expires_at: expiresAt,
      }));
      return { tokenRequest: tokenRequestFromDocument(doc) };
    },

    async denyTokenRequest(req, ctx) {
      const caller = requireCaller(ctx);
      const doc = await transition(req.id, "PENDING", (current) => ({
        ...current,
        status: "DENIED",
        decided_at: new Date(),
        decided_by: caller.userId,
        decision_note: req.note,
      }));
      return { tokenRequest: tokenRequestFromDocument(doc) };
    },

    async retrieveTokenRequestKey(req, ctx) {
      const caller = requireCaller(ctx);
      const request = await loadRequest(req.id, caller);
      if (!request.user_ref.equals(caller.userRef)) throw errMissingRight({ right: "ownership of the request" });
      if (request.status !== "GRANTED") {
        throw errTokenRequestState({ id: req.id, status: request.status, expected: "GRANTED" });
      }
      const user = await targetUser(store, caller, caller.userId);
      // The request moves to RETRIEVED before the key exists, so that two
      // concurrent retrievals cannot both mint a key; only the winner does.
      const keyId = newRecordId(apiKeyIdPrefix);
      await transition(req.id, "GRANTED", (current) => ({ ...current, status: "RETRIEVED", api_key_id: keyId }));
      const key = await issueApiKey(store, user, {
        id: keyId,
        name: request.name,
        rights: request.rights.map((n) => Right[n as keyof typeof Right]).filter((r) => r !== undefined),
        expiresAt: request.expires_at,
        createdBy: request.decided_by,
        // The request is already RETRIEVED: failing now would lose the key.
        nameTaken: "suffix",
      });
      const doc = await store.tokens.get(user.ref, "api_key", { key_id: key.id });
      if (!doc) throw errApiKeyNotFound({ id: key.id, user_id: user.user_id });
      return { apiKey: apiKeyFromDocument(doc, user.user_id), key: key.secret };
    },
  };
}
