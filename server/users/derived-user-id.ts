import { userIdMaxLength } from "../validation/user-validation.js";

/**
 * User ids for a user created with an email address alone, in the order to
 * try them, after Arvados' rule for default usernames: the address's local
 * part in lower-case letters and digits (`John.Doe+x@example.org` gives
 * `johndoe`), then the same with 2, 3, ... appended while the id is taken.
 * The unique index on ids decides between concurrent creates, so the
 * caller inserts each candidate until one is free.
 */
export function* derivedUserIds(email: string): Generator<string> {
  const local = email.slice(0, Math.max(0, email.lastIndexOf("@"))).split("+")[0] ?? "";
  let base = local
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
  // Room for a suffix of up to 6 digits within the id limit.
  base = base.slice(0, userIdMaxLength - 6);
  if (base.length < 2) base = `user${base}`;
  yield base;
  for (let n = 2; n < 1_000_000; n++) yield `${base}${n}`;
}
