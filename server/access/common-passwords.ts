import { dictionary } from "@zxcvbn-ts/language-common";

let common: Set<string> | undefined;

/**
 * Whether a password is among the ~50,000 most common ones (the list zxcvbn
 * uses, compiled from leaked-password corpora), ignoring case. Loaded on
 * first use.
 */
export function isCommonPassword(password: string): boolean {
  common ??= new Set((dictionary["passwords-common"] as string[]).map((p) => p.toLowerCase()));
  return common.has(password.toLowerCase());
}
