import { createHash } from "node:crypto";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import type { User } from "../../gen/roster/v1/user_pb.js";
import { errMissingRight, errUserNotFound, invalidArgument } from "../../shared/errors.js";
import { type Caller, holds } from "../access/caller.js";
import type { Paginator } from "../requests/pagination.js";
import type { Store } from "../store/store.js";
import { type UserDocument, type UserField, userFromDocument } from "../store/user-documents.js";
import type { UserFilter } from "../store/user-filters.js";
import { alwaysReturnedFields, type UserOrderField, userOrderFields } from "../store/user-lists.js";
import { requireUserId } from "../validation/user-validation.js";
import { fillTokenStatus, resolveUserReadMask } from "./token-status.js";

const orders = Object.keys(userOrderFields) as UserOrderField[];

/** Most ids plus emails one BatchGet may ask for. */
const maxBatch = 1000;

/** A user's private fields are theirs and the user admins' to read. */
function mayReadPrivate(caller: Caller, userId: string): boolean {
  return caller.userId === userId || holds(caller, Right.ADMIN_USERS_READ);
}

/** One user with the fields `paths` name (all readable ones when none), and its token status if named. */
export async function readUser(
  store: Store,
  caller: Caller,
  userId: string,
  paths: readonly string[],
  maxTimeMS?: number,
): Promise<User> {
  const mask = resolveUserReadMask(paths, mayReadPrivate(caller, userId));
  const doc = await store.users.get(userId, mask.fields, { withRef: mask.tokenStatus });
  if (!doc) throw errUserNotFound({ user_id: userId });
  const user = userFromDocument(doc);
  if (mask.tokenStatus) await fillTokenStatus(store, [{ doc, user }], maxTimeMS);
  return user;
}

/**
 * Users by ids and by emails, each once, and the ids and emails that named
 * nobody. Only user admins look users up by email: anybody else would
 * learn which addresses are registered.
 */
export async function readUsers(
  store: Store,
  caller: Caller,
  req: { userIds: readonly string[]; emailAddresses: readonly string[]; paths: readonly string[] },
  maxTimeMS?: number,
): Promise<{ users: User[]; missingUserIds: string[]; missingEmailAddresses: string[] }> {
  const adminRead = holds(caller, Right.ADMIN_USERS_READ);
  if (req.userIds.length + req.emailAddresses.length > maxBatch) {
    throw invalidArgument([{ field: "user_ids", description: `at most ${maxBatch} ids and emails in all` }]);
  }
  if (req.emailAddresses.length > 0 && !adminRead) throw errMissingRight({ right: "RIGHT_ADMIN_USERS_READ" });
  for (const [i, id] of req.userIds.entries()) requireUserId(id, `user_ids[${i}]`);
  const onlySelf = req.userIds.every((id) => id === caller.userId) && req.emailAddresses.length === 0;
  const mask = resolveUserReadMask(req.paths, adminRead || onlySelf);
  const docs = await store.users.getMany(req.userIds, req.emailAddresses, mask.fields, { withRef: mask.tokenStatus });
  const byId = new Map(docs.map((d) => [d.user_id, d]));
  const byEmail = new Map(docs.map((d) => [d.email_key, d]));
  const users: User[] = [];
  const pairs: { doc: Partial<UserDocument>; user: User }[] = [];
  const seen = new Set<string>();
  const take = (d: Partial<UserDocument>) => {
    if (d.user_id && !seen.has(d.user_id)) {
      seen.add(d.user_id);
      const { email_key: _, ...rest } = d;
      const user = userFromDocument(rest);
      users.push(user);
      pairs.push({ doc: d, user });
    }
  };
  const missingUserIds: string[] = [];
  const missingEmailAddresses: string[] = [];
  for (const id of req.userIds) {
    const d = byId.get(id);
    if (d) take(d);
    else missingUserIds.push(id);
  }
  for (const email of req.emailAddresses) {
    const d = byEmail.get(email.toLowerCase());
    if (d) take(d);
    else missingEmailAddresses.push(email);
  }
  if (mask.tokenStatus) await fillTokenStatus(store, pairs, maxTimeMS);
  return { users, missingUserIds, missingEmailAddresses };
}

/** A List or Search request's paging and read mask. */
export interface PageRequest {
  fieldMask?: { paths: string[] };
  order: string;
  limit: number;
  page: number;
  pageToken: string;
  exactTotal: boolean;
}

/** List or search: one page of users matching `filter`, with the total and the token of the next page. */
export async function readPage(
  deps: { store: Store; paginator: Paginator },
  filter: UserFilter,
  request: PageRequest,
  maxTimeMS?: number,
): Promise<{ users: User[]; nextPageToken: string; total: number }> {
  const { fields, tokenStatus } = resolveUserReadMask(request.fieldMask?.paths ?? [], true);
  const fingerprint = createHash("sha256").update(JSON.stringify(filter)).digest("base64url").slice(0, 16);
  const pageRequest = deps.paginator.parse(request, orders, fingerprint);
  const result = await deps.store.users.list({
    filter,
    order: pageRequest.order,
    after: pageRequest.after,
    skip: pageRequest.skip,
    limit: pageRequest.limit,
    fields,
    count: request.exactTotal ? "exact" : pageRequest.total !== undefined ? "none" : "estimate",
    maxTimeMS,
    withRef: tokenStatus,
  });
  const total = result.total >= 0 ? result.total : (pageRequest.total ?? 0);
  const last = result.users.at(-1);
  const users = result.users.map(userFromDocument);
  if (tokenStatus) {
    await fillTokenStatus(
      deps.store,
      result.users.map((doc, i) => ({ doc, user: users[i] as User })),
      maxTimeMS,
    );
  }
  return {
    users,
    nextPageToken:
      result.more && last?.user_id
        ? deps.paginator.nextToken(pageRequest.order, fingerprint, result.sortValues.at(-1), last.user_id, total)
        : "",
    total,
  };
}

/** The user as an Update returns it: the given fields, the always-returned ones and the etag. */
export function partialUser(doc: UserDocument, fields: readonly UserField[]): User {
  const stored = doc as unknown as Record<string, unknown>;
  const picked = Object.fromEntries([...alwaysReturnedFields, ...fields, "etag"].map((f) => [f, stored[f]]));
  return userFromDocument(picked);
}
