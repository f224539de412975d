import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { TokenKind, TokenRequestStatus, type UserAccess } from "../../gen/roster/v1/user_access_pb.js";
import {
  errApiKeyNameTaken,
  errApiKeyNotFound,
  errIncorrectPassword,
  errNotALoginToken,
  errReadOnlyFieldPaths,
  errTokenBusy,
  errUnknownFieldPaths,
  errUserNotFound,
  invalidArgument,
} from "../../shared/errors.js";
import { databaseTimeout } from "../call-scope/deadline.js";
import type { EmailQueue } from "../email/email-queue.js";
import { offsetPage, sendTotalCount } from "../requests/pagination.js";
import { rightName } from "../rights/rights.js";
import { apiKeyFromDocument, tokenRequestFromDocument } from "../store/access-documents.js";
import type { Store } from "../store/store.js";
import type { TokenRequestStatusName } from "../store/token-requests-store.js";
import { changeUser } from "../user-changes/user-changes.js";
import { expiryOrNull, grantableRights, issuedKeyOf, requireKeyName, targetUser } from "./api-key-terms.js";
import { apiKeyByIdOrName, issueApiKey } from "./api-keys.js";
import { requireCaller, signInAccountKey } from "./caller.js";
import type { LoginService } from "./login.js";
import type { PasswordHasher, PasswordPolicy } from "./passwords.js";
import { newTemporaryPassword, requireAcceptablePassword } from "./passwords.js";
import { setPassword } from "./set-password.js";
import {
  denyTokenRequest,
  grantTokenRequest,
  readTokenRequest,
  readTokenRequests,
  requestToken,
  retrieveTokenRequestKey,
} from "./token-requests.js";

export interface UserAccessDeps {
  store: Store;
  mail: EmailQueue;
  login: LoginService;
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
  defaultDeadlineMs: number;
}

export function userAccess(deps: UserAccessDeps): ServiceImpl<typeof UserAccess> {
  const { store } = deps;
  const timeout = databaseTimeout(deps.defaultDeadlineMs);
  const tokenErrors = { busy: () => errTokenBusy({}) };

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
      requireKeyName(req.name);
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
      const apiKey = await issuedKeyOf(store, user, key);
      if (req.sendEmail !== false) {
        await deps.mail.enqueue(user.primary_email_address, {
          kind: "api_key_created",
          userId: user.user_id,
          keyName: req.name,
          keyId: key.id,
          createdBy: caller.userId,
        });
      }
      return { apiKey, key: key.secret };
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
      if (paths.includes("name")) requireKeyName(given?.name ?? "", "api_key.name");
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
      return { tokenRequest: tokenRequestFromDocument(await requestToken(store, requireCaller(ctx), req)) };
    },

    async listTokenRequests(req, ctx) {
      const status =
        req.status === TokenRequestStatus.UNSPECIFIED
          ? undefined
          : (TokenRequestStatus[req.status] as TokenRequestStatusName | undefined);
      const { requests, total } = await readTokenRequests(store, requireCaller(ctx), { ...req, status }, timeout(ctx));
      sendTotalCount(ctx, total);
      return { tokenRequests: requests.map(tokenRequestFromDocument), totalSize: BigInt(total) };
    },

    async getTokenRequest(req, ctx) {
      return { tokenRequest: tokenRequestFromDocument(await readTokenRequest(store, requireCaller(ctx), req.id)) };
    },

    async grantTokenRequest(req, ctx) {
      return { tokenRequest: tokenRequestFromDocument(await grantTokenRequest(deps, requireCaller(ctx), req)) };
    },

    async denyTokenRequest(req, ctx) {
      return { tokenRequest: tokenRequestFromDocument(await denyTokenRequest(store, requireCaller(ctx), req)) };
    },

    async retrieveTokenRequestKey(req, ctx) {
      return retrieveTokenRequestKey(store, requireCaller(ctx), req.id);
    },
  };
}
