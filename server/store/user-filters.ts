import type { Document, Filter } from "mongodb";
import { conditionQuery, type UserCondition } from "./user-conditions.js";
import { type StateName, systemUserId, type UserDocument } from "./user-documents.js";

/** Which users a list or search selects. Text filters match literally. */
export interface UserFilter {
  /** Select soft-deleted users instead of active ones. */
  deleted: boolean;
  query?: string;
  idContains?: string;
  nameContains?: string;
  descriptionContains?: string;
  emailContains?: string;
  states?: StateName[];
  admin?: boolean;
  attributesContain?: Record<string, string>;
  /** A condition tree (SCIM filters), applied besides the fields above. */
  condition?: UserCondition;
  /** Also select the built-in system user (left out by default). */
  withSystem?: boolean;
}

/** Escape text so that `$regex` matches it literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function contains(text: string): Document {
  return { $regex: escapeRegex(text), $options: "i" };
}

/** The query that selects the users `filter` describes (lists, searches and exports). */
export function filterQuery(filter: UserFilter): Filter<UserDocument> {
  const and: Filter<UserDocument>[] = [filter.deleted ? { deleted_at: { $ne: null } } : { deleted_at: null }];
  if (!filter.withSystem) and.push({ _id: { $ne: systemUserId } });
  if (filter.query) {
    and.push({
      $or: [{ _id: contains(filter.query) }, { name: contains(filter.query) }, { description: contains(filter.query) }],
    });
  }
  if (filter.idContains) and.push({ _id: contains(filter.idContains) });
  if (filter.nameContains) and.push({ name: contains(filter.nameContains) });
  if (filter.descriptionContains) and.push({ description: contains(filter.descriptionContains) });
  if (filter.emailContains) and.push({ email_key: contains(filter.emailContains.toLowerCase()) });
  if (filter.states && filter.states.length > 0) and.push({ state: { $in: filter.states } });
  if (filter.admin !== undefined) and.push({ admin: filter.admin });
  for (const [key, value] of Object.entries(filter.attributesContain ?? {})) {
    // Keys are validated by the registry (no `$`, no `.`), so this path is safe.
    and.push({ [`attributes.${key}`]: contains(value) } as Filter<UserDocument>);
  }
  if (filter.condition) and.push(conditionQuery(filter.condition));
  return and.length === 1 ? (and[0] as Filter<UserDocument>) : { $and: and };
}

/** Whether `filter` selects every active user (so that collection metadata can count them). */
export function isUnfiltered(filter: UserFilter): boolean {
  return (
    !filter.deleted &&
    !filter.query &&
    !filter.idContains &&
    !filter.nameContains &&
    !filter.descriptionContains &&
    !filter.emailContains &&
    !filter.states?.length &&
    filter.admin === undefined &&
    Object.keys(filter.attributesContain ?? {}).length === 0 &&
    !filter.condition
  );
}
