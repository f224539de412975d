import { errAdminOnlyFields, errReadOnlyFieldPaths, errUnknownFieldPaths } from "../../shared/errors.js";

/**
 * Who may read and change one field of a resource.
 * - read `public`: anybody authenticated; `private`: the owner and admins.
 * - update `self`: the owner and admins; `admin`: admins only; `never`:
 *   read-only (set by the server).
 */
export interface FieldRule {
  read: "public" | "private";
  update: "self" | "admin" | "never";
  /** Computed when named; an empty mask leaves it out. */
  computed?: boolean;
}

/** A resource's field rules, by field path, in display order. */
export type FieldRules<F extends string> = Readonly<Record<F, FieldRule>>;

/**
 * The fields a read returns. An empty mask means every field the caller may
 * read, but for computed ones, which only a mask naming them returns. Unknown paths (and `forbidden` ones, such as `password`) are
 * INVALID_ARGUMENT; private fields without `mayReadPrivate` are
 * PERMISSION_DENIED. Every error names all offending paths.
 */
export function resolveReadMask<F extends string>(
  rules: FieldRules<F>,
  paths: readonly string[],
  mayReadPrivate: boolean,
): F[] {
  const all = Object.keys(rules) as F[];
  const readable = all.filter((f) => mayReadPrivate || rules[f].read === "public");
  if (paths.length === 0) return readable.filter((f) => !rules[f].computed);
  const unknown = paths.filter((p) => !(p in rules));
  if (unknown.length > 0) throw errUnknownFieldPaths({ paths: unknown.join(", ") });
  const denied = paths.filter((p) => !readable.includes(p as F));
  if (denied.length > 0) throw errAdminOnlyFields({ paths: denied.join(", ") });
  return all.filter((f) => paths.includes(f));
}

/**
 * The fields an update changes. Unknown and read-only paths are
 * INVALID_ARGUMENT; admin-only paths without `admin` are PERMISSION_DENIED.
 * An empty mask changes nothing.
 */
export function resolveUpdateMask<F extends string>(
  rules: FieldRules<F>,
  paths: readonly string[],
  admin: boolean,
): F[] {
  const unknown = paths.filter((p) => !(p in rules));
  if (unknown.length > 0) throw errUnknownFieldPaths({ paths: unknown.join(", ") });
  const readOnly = paths.filter((p) => rules[p as F].update === "never");
  if (readOnly.length > 0) throw errReadOnlyFieldPaths({ paths: readOnly.join(", ") });
  const adminOnly = paths.filter((p) => rules[p as F].update === "admin");
  if (!admin && adminOnly.length > 0) throw errAdminOnlyFields({ paths: adminOnly.join(", ") });
  return [...new Set(paths)] as F[];
}
