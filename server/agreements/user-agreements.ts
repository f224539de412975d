import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type Agreement, AgreementSchema, type UserAgreements } from "../../gen/roster/v1/user_agreements_pb.js";
import { errAgreementNotFound, errAgreementVersion, errUserNotFound, invalidArgument } from "../../shared/errors.js";
import { requireCaller } from "../access/caller.js";
import { maxTimeMS } from "../call-scope/deadline.js";
import type { AgreementDocument, UserAgreementsDocument } from "../store/agreements-store.js";
import type { Store } from "../store/store.js";
import type { UserRef } from "../store/user-documents.js";
import { requireUserId } from "../validation/user-validation.js";

/** Agreement ids: they are document paths of acceptances, so never `$`-led or dotted. */
const agreementIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

function requireAgreementId(id: string, field = "id") {
  if (!agreementIdPattern.test(id)) {
    throw invalidArgument([{ field, description: `must match ${agreementIdPattern.source}` }]);
  }
}

/** An agreement as one user sees it. */
function agreementMessage(doc: AgreementDocument, mine: UserAgreementsDocument | null): Agreement {
  const accepted = mine?.accepted?.[doc._id];
  return create(AgreementSchema, {
    id: doc._id,
    version: doc.version,
    title: doc.title,
    url: doc.url,
    updatedAt: timestampFromDate(doc.updated_at),
    acceptedVersion: accepted?.version ?? 0,
    acceptedAt: accepted && accepted.version === doc.version ? timestampFromDate(accepted.at) : undefined,
  });
}

/**
 * Whether the user with this ref was set up, and the ids of the current
 * agreements whose current version the user has not accepted.
 */
export async function agreementStanding(
  store: Store,
  userRef: UserRef,
): Promise<{ setUp: boolean; pending: string[] }> {
  const [all, mine] = await Promise.all([store.agreements.list(), store.agreements.ofUser(userRef)]);
  const pending = all.filter((a) => mine?.accepted?.[a._id]?.version !== a.version).map((a) => a._id);
  return { setUp: mine?.set_up === true, pending };
}

export interface UserAgreementsDeps {
  store: Store;
  defaultDeadlineMs: number;
}

/**
 * The UserAgreements service (Arvados' user agreements). Who may call what
 * is the rights table's: listing one's own and accepting are any signed-in
 * user's, also one awaiting activation; publishing is admins'.
 */
export function userAgreements(deps: UserAgreementsDeps): ServiceImpl<typeof UserAgreements> {
  const { store } = deps;
  const timeout = (ctx: HandlerContext) => maxTimeMS(ctx, deps.defaultDeadlineMs);

  async function userRefOf(requested: string, ctx: HandlerContext): Promise<UserRef> {
    const caller = requireCaller(ctx);
    const userId = requested || caller.userId;
    if (userId === caller.userId) return caller.userRef;
    requireUserId(userId);
    const doc = await store.users.getDocument(userId);
    if (!doc) throw errUserNotFound({ user_id: userId });
    return doc.ref;
  }

  return {
    async list(req, ctx) {
      const ref = await userRefOf(req.userId, ctx);
      const [all, mine] = await Promise.all([store.agreements.list(timeout(ctx)), store.agreements.ofUser(ref)]);
      return { agreements: all.map((a) => agreementMessage(a, mine)) };
    },

    async set(req) {
      const given = req.agreement ?? create(AgreementSchema);
      requireAgreementId(given.id, "agreement.id");
      const problems = [];
      if (!given.title.trim()) problems.push({ field: "agreement.title", description: "is required" });
      if (given.title.length > 200) problems.push({ field: "agreement.title", description: "at most 200 characters" });
      if (given.url.length > 2000) problems.push({ field: "agreement.url", description: "at most 2000 characters" });
      if (given.version < 0) problems.push({ field: "agreement.version", description: "must not be negative" });
      if (problems.length > 0) throw invalidArgument(problems);
      const current = await store.agreements.get(given.id);
      const version = given.version || (current?.version ?? 0) + 1;
      const stored = await store.agreements.put({
        _id: given.id,
        version,
        title: given.title,
        url: given.url,
        updated_at: new Date(),
      });
      if (stored.version !== version) {
        throw errAgreementVersion({ id: given.id, version, current: stored.version });
      }
      return { agreement: agreementMessage(stored, null) };
    },

    async delete(req) {
      requireAgreementId(req.id);
      if (!(await store.agreements.delete(req.id))) throw errAgreementNotFound({ id: req.id });
      return {};
    },

    async accept(req, ctx) {
      const caller = requireCaller(ctx);
      requireAgreementId(req.id);
      const doc = await store.agreements.get(req.id);
      if (!doc) throw errAgreementNotFound({ id: req.id });
      if (req.version !== 0 && req.version !== doc.version) {
        throw errAgreementVersion({ id: req.id, version: req.version, current: doc.version });
      }
      const at = new Date();
      await store.agreements.accept(caller.userRef, doc._id, doc.version, at);
      return { agreement: agreementMessage(doc, { accepted: { [doc._id]: { version: doc.version, at } } } as never) };
    },
  };
}
