import type { EmailQueue } from "../email/email-queue.js";
import { hashToken, newToken } from "../secrets/token-format.js";
import type { OneTimePurpose } from "../store/one-time-tokens-store.js";
import type { Store } from "../store/store.js";
import type { UserDocument } from "../store/user-documents.js";

/**
 * The addresses of the public pages, under --public-url. Every link Roster
 * mails points at one of them; the token travels in the fragment (`#token=`),
 * which browsers never send to a server, so that it lands in no access log
 * or Referer header.
 */
export const pagePaths = {
  signIn: "/sign-in",
  register: "/register",
  forgotPassword: "/forgot-password",
  resetPassword: "/reset-password",
  verifyEmail: "/verify-email",
} as const;

/** Base URL for links, read at each use (it follows the listener when --public-url is not given). */
export interface PublicUrl {
  readonly publicUrl: string;
}

export function pageUrl(base: PublicUrl, path: string, token?: string, name = "token"): string {
  return `${base.publicUrl}${path}${token ? `#${name}=${token}` : ""}`;
}

export interface LinkOptions {
  store: Store;
  mail: EmailQueue;
  urls: PublicUrl;
  /** How long a password reset link works. */
  passwordResetTtlMs: number;
  /** How long an email validation link works. */
  emailValidationTtlMs: number;
}

/**
 * Make a one-time token for `user`, store its hash, and mail the link to
 * the user's primary address. The secret exists only in the queued email
 * (sealed, see secret-box.ts).
 */
export async function sendLink(options: LinkOptions, purpose: OneTimePurpose, user: UserDocument): Promise<void> {
  const reset = purpose === "password_reset";
  const token = newToken(reset ? "passwordReset" : "emailValidation");
  const now = new Date();
  const expiresAt = new Date(now.getTime() + (reset ? options.passwordResetTtlMs : options.emailValidationTtlMs));
  await options.store.oneTimeTokens.insert({
    _id: hashToken(token),
    purpose,
    user_ref: user.ref,
    user_id: user.user_id,
    email: user.primary_email_address,
    created_at: now,
    expires_at: expiresAt,
    used_at: null,
  });
  const url = pageUrl(options.urls, reset ? pagePaths.resetPassword : pagePaths.verifyEmail, token);
  await options.mail.enqueue(
    user.primary_email_address,
    reset
      ? { kind: "password_reset", userId: user.user_id, url, expiresAt }
      : { kind: "email_validation", userId: user.user_id, email: user.primary_email_address, url, expiresAt },
  );
}
