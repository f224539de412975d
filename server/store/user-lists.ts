import type { Collection, Document, Filter, Sort } from "mongodb";
import type { UserDocument, UserField } from "./user-documents.js";
import { filterQuery, isUnfiltered, type UserFilter } from "./user-filters.js";

/** Fields users can be ordered by, with the stored field that sorts them. */
export const userOrderFields = {
  user_id: "_id",
  name: "name",
  primary_email_address: "email_key",
  state: "state",
  admin: "admin",
  created_at: "created_at",
} as const;

export type UserOrderField = keyof typeof userOrderFields;

/** Options of one page of a list. */
export interface ListUsersOptions {
  filter: UserFilter;
  order: { field: UserOrderField; descending: boolean };
  /** Keyset position: return users after this one. */
  after?: { value: unknown; userId: string };
  skip: number;
  limit: number;
  /** Fields to fetch; the always-returned ones are added. */
  fields: readonly UserField[];
  /**
   * `exact` counts the matches; `estimate` reads unfiltered counts from
   * collection metadata; `none` skips counting (the caller knows the total).
   */
  count: "exact" | "estimate" | "none";
  maxTimeMS?: number;
  /** Also fetch each user's `ref` (to look up what is bound to it, such as tokens). */
  withRef?: boolean;
}

/** One page: the users, each one's sort value (for keyset tokens), the total, and whether more follow. */
export interface UserPage {
  users: Partial<UserDocument>[];
  sortValues: unknown[];
  total: number;
  more: boolean;
}

/** Always-returned fields. */
export const alwaysReturnedFields = ["user_id", "created_at", "updated_at"] as const;

/** The projection that fetches `fields`, the always-returned ones and `extra`. */
export function userProjection(fields: readonly string[], extra: readonly string[] = []): Document {
  const p: Document = { _id: 0 };
  for (const f of [...alwaysReturnedFields, ...fields, ...extra]) p[f] = 1;
  return p;
}

/** One page of the users `options.filter` selects, in keyset or offset order. */
export async function listUsers(users: Collection<UserDocument>, options: ListUsersOptions): Promise<UserPage> {
  const sortField = userOrderFields[options.order.field];
  const direction = options.order.descending ? -1 : 1;
  const base = filterQuery(options.filter);
  let query = base;
  if (options.after) {
    const cmp = options.order.descending ? "$lt" : "$gt";
    // Keyset: after (value, id) in (field, _id) order. The range on the
    // field alone lets the (deleted_at, field, _id) index seek to the page.
    const keyset: Filter<UserDocument> =
      sortField === "_id"
        ? { _id: { [cmp]: options.after.userId } }
        : ({
            [sortField]: { [options.order.descending ? "$lte" : "$gte"]: options.after.value },
            $or: [{ [sortField]: { [cmp]: options.after.value } }, { _id: { [cmp]: options.after.userId } }],
          } as Filter<UserDocument>);
    query = { $and: [base, keyset] };
  }
  const sort: Sort = sortField === "_id" ? { _id: direction } : { [sortField]: direction, _id: direction };
  const extra = [...(sortField === "_id" ? [] : [sortField]), ...(options.withRef ? ["ref"] : [])];
  const docs = await users
    .find(query, {
      projection: userProjection(options.fields, extra),
      sort,
      skip: options.skip,
      limit: options.limit + 1,
      maxTimeMS: options.maxTimeMS,
    })
    .toArray();
  const more = docs.length > options.limit;
  const page = docs.slice(0, options.limit);
  const sortValues = page.map((d) => (d as Record<string, unknown>)[sortField === "_id" ? "user_id" : sortField]);
  const returned = [...alwaysReturnedFields, ...options.fields] as string[];
  if (sortField !== "_id" && !returned.includes(sortField)) {
    for (const d of page) delete (d as Record<string, unknown>)[sortField];
  }
  let total = -1;
  if (options.count === "estimate" && isUnfiltered(options.filter)) {
    const [all, deleted] = await Promise.all([
      users.estimatedDocumentCount({ maxTimeMS: options.maxTimeMS }),
      users.countDocuments({ deleted_at: { $ne: null } }, { maxTimeMS: options.maxTimeMS }),
    ]);
    // The system user is in the collection and, unless asked for, not in the list.
    total = Math.max(0, all - deleted - (options.filter.withSystem ? 0 : 1));
  } else if (options.count !== "none") {
    total = await users.countDocuments(base, { maxTimeMS: options.maxTimeMS });
  }
  return { users: page, sortValues, total, more };
}
