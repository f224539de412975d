import type { RecordColumn } from "./csv-records.js";
import { UsageError } from "./errors.js";

/**
 * How the columns of a CSV written by another system become Roster's
 * record columns (`roster users import`):
 *
 * - a header that names a column (`primary_email_address`, `user.name`) is
 *   that column;
 * - common headers of other systems are recognised (below);
 * - `--column SOURCE=FIELD` maps any header (or, with `--no-header`, a
 *   1-based column position) to a column, and `SOURCE=-` leaves it out;
 * - `--layout reana` reads REANA's `user-export` (no header; id, email,
 *   access token, username, full name).
 */

/** Headers other systems write, lower-cased, and the column each means. */
export const commonHeaders: Readonly<Record<string, string>> = {
  email: "primary_email_address",
  "e-mail": "primary_email_address",
  mail: "primary_email_address",
  email_address: "primary_email_address",
  emailaddress: "primary_email_address",
  username: "user_id",
  user_name: "user_id",
  login: "user_id",
  id: "user_id",
  full_name: "name",
  fullname: "name",
  display_name: "name",
  displayname: "name",
  enabled: "-",
};

/** The mappings of a layout other systems export in. */
export const layouts: Readonly<Record<string, { header: boolean; columns: Record<string, string> }>> = {
  // REANA's `flask reana-admin user-export`: id_, email, access_token,
  // username, full_name, without a header. Its ids are UUIDs, which are
  // valid Roster ids; usernames are mostly empty.
  reana: {
    header: false,
    columns: { "1": "user_id", "2": "primary_email_address", "3": "api_key", "4": "-", "5": "name" },
  },
};

/** Parse `--column SOURCE=FIELD` values. */
export function parseColumnMappings(values: readonly string[]): Map<string, string> {
  const mappings = new Map<string, string>();
  for (const value of values) {
    const at = value.lastIndexOf("=");
    if (at <= 0)
      throw new UsageError(`--column takes SOURCE=FIELD (or SOURCE=- to leave a column out), not "${value}"`);
    mappings.set(value.slice(0, at).trim().toLowerCase(), value.slice(at + 1).trim());
  }
  return mappings;
}

/**
 * The record column of each source column (null: left out), from the
 * header's names or, without a header, the positions 1..width.
 */
export function mapColumns(
  sources: readonly string[],
  known: readonly RecordColumn[],
  mappings: ReadonlyMap<string, string>,
  byPosition: boolean,
): (RecordColumn | null)[] {
  const byName = (name: string) => known.find((c) => c.name === name || c.path.join(".") === name);
  return sources.map((source, i) => {
    const key = byPosition ? String(i + 1) : source.trim().toLowerCase();
    const target = mappings.get(key) ?? (byPosition ? undefined : source.trim());
    if (target === "-") return null;
    const column =
      (target && byName(target)) ??
      (!byPosition && commonHeaders[key] ? byName(commonHeaders[key] as string) : undefined);
    if (!byPosition && commonHeaders[key] === "-" && !mappings.has(key)) return null;
    if (column) return column;
    const what = byPosition ? `column ${i + 1}` : `column "${source}"`;
    throw new UsageError(
      `unknown ${what}${target && target !== source.trim() ? ` (mapped to "${target}")` : ""}; map it with --column ${byPosition ? i + 1 : source.trim()}=FIELD (or =- to leave it out); the fields are ${known.map((c) => c.name).join(", ")}`,
    );
  });
}
