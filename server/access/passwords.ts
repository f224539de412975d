import { randomBytes } from "node:crypto";
import { type Algorithm, hash, verify } from "@node-rs/argon2";

// Algorithm is an ambient const enum, which isolated modules cannot read.
const argon2id = 2 as Algorithm.Argon2id;

import { invalidArgument } from "../../shared/errors.js";
import { codePointCount } from "../validation/text.js";
import { isImportedHash, verifyImportedHash } from "./imported-password-hashes.js";
import { createSemaphore } from "./semaphore.js";

/** Argon2id cost; the defaults are OWASP's (m=19 MiB, t=2, p=1). */
export interface HashParameters {
  /** Memory in KiB. Default 19456 (19 MiB). */
  memoryCost: number;
  /** Iterations. Default 2. */
  timeCost: number;
  /** Lanes. Default 1. */
  parallelism: number;
}

export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). */
  hash(password: string): Promise<string>;
  /**
   * Whether `password` matches `phc`, and whether the stored hash should be
   * replaced because it was made with other parameters or another algorithm.
   * Besides Argon2 PHC strings, `phc` may be an imported bcrypt or scrypt
   * hash (see imported-password-hashes.ts), which always wants replacing.
   */
  verify(phc: string, password: string): Promise<{ ok: boolean; rehash: boolean }>;
}

/**
 * Hash and verify passwords with Argon2id, at most `concurrency` at once:
 * each hash holds `memoryCost` KiB, so an unbounded burst of logins would
 * exhaust memory before it exhausted CPU.
 */
export function createPasswordHasher(params: HashParameters, concurrency: number): PasswordHasher {
  const slots = createSemaphore(concurrency);
  const options = { algorithm: argon2id, ...params, outputLen: 32 };
  const current = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  return {
    hash: (password) => slots.run(() => hash(password, options)),
    async verify(phc, password) {
      // Imported bcrypt and scrypt hashes are verified once more, then replaced by Argon2id.
      if (isImportedHash(phc)) {
        const ok = await slots.run(() => verifyImportedHash(phc, password).catch(() => false));
        return { ok, rehash: ok };
      }
      if (!phc.startsWith("$argon2")) return { ok: false, rehash: false };
      const ok = await slots.run(() => verify(phc, password).catch(() => false));
      return { ok, rehash: ok && !phc.startsWith(current) };
    },
  };
}

/** Password rules, NIST SP 800-63B style: length only, no composition rules. */
export interface PasswordPolicy {
  /** Default 8. */
  minLength: number;
  /** Default 256; never below 64. Longer passwords are refused, never truncated. */
  maxLength: number;
}

/**
 * Why `password` is not acceptable, or undefined. Length counts Unicode
 * code points, so that "ünïcödé" is not penalised for its bytes.
 */
export function passwordProblem(
  password: string,
  policy: PasswordPolicy,
  context: { userId?: string; email?: string },
  isCommon: (password: string) => boolean = () => false,
): string | undefined {
  const length = codePointCount(password);
  if (length < policy.minLength) return `must be at least ${policy.minLength} characters long`;
  if (length > policy.maxLength) return `must be at most ${policy.maxLength} characters long`;
  const lower = password.toLowerCase();
  if (context.userId && lower === context.userId.toLowerCase()) return "must not be the user id";
  if (context.email && lower === context.email.toLowerCase()) return "must not be the email address";
  if (isCommon(password)) return "is too common; choose a less guessable password";
  return undefined;
}

declare const checked: unique symbol;

/**
 * A password fit to become a user's: one somebody chose that passed the
 * policy (requireAcceptablePassword), or one the server generated
 * (newTemporaryPassword). Only these are hashed as a user's new password
 * (hashNewPassword), so no path can store a chosen one unchecked.
 */
export type NewPassword = string & { readonly [checked]: true };

/** The stored hash of a user's new password. */
export function hashNewPassword(hasher: PasswordHasher, password: NewPassword): Promise<string> {
  return hasher.hash(password);
}

/** What a new password is checked against: the configured policy and the list of common passwords. */
export interface PasswordChecks {
  passwordPolicy: PasswordPolicy;
  isCommonPassword: (password: string) => boolean;
}

/**
 * The one check of a password a user or admin chooses (Create, invitations,
 * UpdatePassword, SCIM): INVALID_ARGUMENT naming `field` unless `password`
 * is acceptable for the user in `context`.
 */
export function requireAcceptablePassword(
  password: string,
  checks: PasswordChecks,
  context: { userId?: string; email?: string },
  field: string,
): NewPassword {
  const problem = passwordProblem(password, checks.passwordPolicy, context, checks.isCommonPassword);
  if (problem) throw invalidArgument([{ field, description: problem }]);
  return password as NewPassword;
}

/** A random temporary password: 20 characters from 56 letters and digits without look-alikes (~116 bits). */
export function newTemporaryPassword(): NewPassword {
  const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  let out = "";
  while (out.length < 20) {
    for (const byte of randomBytes(32)) {
      // 224 = 4 * 56: bytes above it would bias the choice.
      if (byte < 224 && out.length < 20) out += alphabet[byte % 56];
    }
  }
  return out as NewPassword;
}
