import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { LinkPurpose, LinkStatus, type SelfService } from "../../gen/roster/v1/self_service_pb.js";
import {
  errEmailChanged,
  errLinkExpired,
  errLinkUnknown,
  errLinkUsed,
  errMissingRight,
  errNoEmailAddress,
  errTooManyRequests,
  errUserNotFound,
  invalidArgument,
} from "../../shared/errors.js";
import { clientAddressKey, holds, requireCaller } from "../access/caller.js";
import type { PasswordHasher, PasswordPolicy } from "../access/passwords.js";
import { passwordProblem, requireAcceptablePassword } from "../access/passwords.js";
import { setPassword } from "../access/set-password.js";
import { inBackground } from "../call-scope/background.js";
import type { EmailQueue } from "../email/email-queue.js";
import type { Logger } from "../runtime/log.js";
import { hashToken, tokenKind } from "../secrets/token-format.js";
import { effectiveStatus, type InvitationStatusName } from "../store/invitations-store.js";
import type { OneTimePurpose, OneTimeTokenDocument } from "../store/one-time-tokens-store.js";
import type { UserDocument } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";
import { emailProblem } from "../validation/user-validation.js";
import { type LinkOptions, sendLink } from "./links.js";

/** Lifetimes of self-service links and how often they may be asked for. */
export interface SelfServiceLimits {
  /** How long a password reset link works. Default 1 hour. */
  passwordResetTtlMs: number;
  /** How long an email validation link works. Default 7 days. */
  emailValidationTtlMs: number;
  /** Reset emails one address gets per window; further requests send nothing. Default 3. */
  maxPerAddress: number;
  /** Reset requests one client address may make per window (RESOURCE_EXHAUSTED beyond). Default 30. */
  maxPerClient: number;
  /** The window of both counts, at most a day. Default 1 hour. */
  windowMs: number;
}

export interface SelfServiceDeps extends LinkOptions {
  mail: EmailQueue;
  hasher: PasswordHasher;
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
  registration: { mode: "open" | "invitation" | "closed"; approval: "auto" | "admin" };
  limits: SelfServiceLimits;
  log: Pick<Logger, "info" | "warn">;
}

/** An invitation's status as the state of its link (a revoked invitation's link is as good as unknown). */
const invitationLinkStatus: Record<InvitationStatusName, LinkStatus> = {
  PENDING: LinkStatus.VALID,
  EXPIRED: LinkStatus.EXPIRED,
  ACCEPTED: LinkStatus.USED,
  REVOKED: LinkStatus.UNKNOWN,
};

/** Who may get a password reset link: accounts that can sign in or await approval. */
const resettableStates = new Set(["APPROVED", "REQUESTED"]);

export function selfService(deps: SelfServiceDeps): ServiceImpl<typeof SelfService> {
  const { store, limits } = deps;

  /** The stored token of a link, checked for purpose, expiry and use. */
  async function usableToken(token: string, purpose: OneTimePurpose): Promise<OneTimeTokenDocument> {
    const wanted = purpose === "password_reset" ? "passwordReset" : "emailValidation";
    if (tokenKind(token) !== wanted) {
      const prefix = purpose === "password_reset" ? "rst_pr_" : "rst_ev_";
      throw invalidArgument([{ field: "token", description: `is not a token of this kind of link (${prefix}...)` }]);
    }
    const doc = await store.oneTimeTokens.get(hashToken(token));
    if (!doc || doc.purpose !== purpose) throw errLinkUnknown({});
    if (doc.used_at) throw errLinkUsed({});
    if (doc.expires_at <= new Date()) throw errLinkExpired({ expired_at: doc.expires_at.toISOString() });
    return doc;
  }

  /** The user a token was made for, if it still exists (by incarnation). */
  async function userOf(doc: OneTimeTokenDocument): Promise<UserDocument> {
    const user = await store.users.getDocumentByRef(doc.user_ref);
    if (!user) throw errLinkUnknown({});
    return user;
  }

  /** Use the token, or fail as a used link when another request used it first. */
  async function consume(doc: OneTimeTokenDocument): Promise<Date> {
    const now = new Date();
    if (!(await store.oneTimeTokens.consume(doc._id, now))) throw errLinkUsed({});
    return now;
  }

  /** The mailing half of RequestPasswordReset, off the answer's path. */
  async function mailReset(email: string): Promise<void> {
    const since = new Date(Date.now() - limits.windowMs);
    const count = await store.requestCounts.add(`reset-email:${email}`, new Date(), since, limits.maxPerAddress + 1);
    if (count > limits.maxPerAddress) {
      deps.log.info({ template: "password_reset" }, "password reset not sent: too many for this address");
      return;
    }
    const user = await store.users.getDocumentByEmail(email);
    if (!user || !resettableStates.has(user.state)) return;
    await sendLink(deps, "password_reset", user);
  }

  return {
    async getOptions() {
      return {
        registrationMode: deps.registration.mode,
        registrationApproval: deps.registration.approval,
        passwordMinLength: deps.passwordPolicy.minLength,
        passwordMaxLength: deps.passwordPolicy.maxLength,
      };
    },

    async checkPassword(req) {
      return {
        problem:
          passwordProblem(
            req.password,
            deps.passwordPolicy,
            { userId: req.userId, email: req.email },
            deps.isCommonPassword,
          ) ?? "",
      };
    },

    async requestPasswordReset(req, ctx: HandlerContext) {
      const problem = emailProblem(req.email);
      if (problem) throw invalidArgument([{ field: "email", description: problem }]);
      const email = req.email.trim().toLowerCase();
      // The client's count is kept for every request alike; beyond it the
      // client is told to slow down, which says nothing about the address.
      const client = ctx.values.get(clientAddressKey) || "unknown";
      const since = new Date(Date.now() - limits.windowMs);
      const count = await store.requestCounts.add(`reset-client:${client}`, new Date(), since, limits.maxPerClient + 1);
      if (count > limits.maxPerClient) throw errTooManyRequests({});
      // Looking the address up, counting it and mailing happen after the
      // answer, so that its content and timing are the same for any address.
      inBackground(() =>
        setImmediate(() => {
          mailReset(email).catch((err) => deps.log.warn({ err }, "password reset email failed"));
        }),
      );
      return {};
    },

    async resetPassword(req) {
      const doc = await usableToken(req.token, "password_reset");
      const user = await userOf(doc);
      const password = requireAcceptablePassword(
        req.newPassword,
        deps,
        { userId: user.user_id, email: user.primary_email_address },
        "new_password",
      );
      const now = await consume(doc);
      const { user: updated, ...counts } = await setPassword(store, deps.hasher, user.user_id, {
        password,
        requirePasswordUpdate: false,
        clearTokens: req.clearTokens,
        actor: user.user_id,
      });
      // Older reset links of the user stop working; so does a lockout from wrong guesses.
      await store.oneTimeTokens.retireOthers(user.ref, "password_reset", doc._id, now);
      await store.loginAttempts.reset(`u:${user.ref.toHexString()}`);
      await deps.mail.enqueue(updated.primary_email_address, { kind: "password_changed", userId: updated.user_id });
      return { userId: updated.user_id, ...counts };
    },

    async requestEmailValidation(req, ctx) {
      const caller = requireCaller(ctx);
      const userId = req.userId || caller.userId;
      if (userId !== caller.userId && !holds(caller, Right.ADMIN_USERS_WRITE)) {
        throw errMissingRight({ right: "RIGHT_ADMIN_USERS_WRITE" });
      }
      const user = await store.users.getDocument(userId);
      if (!user) throw errUserNotFound({ user_id: userId });
      if (!user.primary_email_address) throw errNoEmailAddress({ user_id: user.user_id });
      if (user.primary_email_address_validated_at) return { sent: false, email: user.primary_email_address };
      await sendLink(deps, "email_validation", user);
      return { sent: true, email: user.primary_email_address };
    },

    async validateEmail(req) {
      const doc = await usableToken(req.token, "email_validation");
      const user = await userOf(doc);
      if (user.email_key !== doc.email.toLowerCase()) throw errEmailChanged({ user_id: user.user_id });
      const now = await consume(doc);
      const updated = await changeUser(
        store,
        user.user_id,
        (current) =>
          current.email_key === doc.email.toLowerCase() && !current.primary_email_address_validated_at
            ? { ...current, primary_email_address_validated_at: now, updated_at: now }
            : undefined,
        { actor: user.user_id },
      );
      await store.oneTimeTokens.retireOthers(user.ref, "email_validation", doc._id, now);
      const validatedAt = updated.primary_email_address_validated_at ?? now;
      return { userId: updated.user_id, email: doc.email, validatedAt: timestampFromDate(validatedAt) };
    },

    async describeLink(req) {
      const kind = tokenKind(req.token);
      if (kind === "invitation") {
        const invitation = await store.invitations.getByTokenHash(hashToken(req.token));
        if (!invitation) return { purpose: LinkPurpose.INVITATION, status: LinkStatus.UNKNOWN, email: "" };
        return {
          purpose: LinkPurpose.INVITATION,
          status: invitationLinkStatus[effectiveStatus(invitation)],
          expiresAt: timestampFromDate(invitation.expires_at),
          email: invitation.email,
        };
      }
      if (kind !== "passwordReset" && kind !== "emailValidation") {
        return { purpose: LinkPurpose.UNSPECIFIED, status: LinkStatus.UNKNOWN, email: "" };
      }
      const purpose = kind === "passwordReset" ? LinkPurpose.PASSWORD_RESET : LinkPurpose.EMAIL_VALIDATION;
      const doc = await store.oneTimeTokens.get(hashToken(req.token));
      if (!doc) return { purpose, status: LinkStatus.UNKNOWN, email: "" };
      return {
        purpose,
        status: doc.used_at ? LinkStatus.USED : doc.expires_at <= new Date() ? LinkStatus.EXPIRED : LinkStatus.VALID,
        expiresAt: timestampFromDate(doc.expires_at),
        email: doc.email,
      };
    },
  };
}
