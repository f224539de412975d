import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { UserSchema } from "../../gen/roster/v1/user_pb.js";
import { MergeAPIKeys, type UserRegistry } from "../../gen/roster/v1/user_registry_pb.js";
import { callerOf, requireCaller } from "../access/caller.js";
import { databaseTimeout } from "../call-scope/deadline.js";
import { type Paginator, sendTotalCount } from "../requests/pagination.js";
import { userFromDocument } from "../store/user-documents.js";
import type { UserFilter } from "../store/user-filters.js";
import { requireUserId } from "../validation/user-validation.js";
import { mergeUsers, requireMergeRight } from "./merge-users.js";
import { finishStaleOperations } from "./operation-recovery.js";
import { renameUser } from "./rename-user.js";
import { createUser, type UserCreationDeps } from "./user-creation.js";
import { deleteUser, purgeUser, restoreUser } from "./user-deletion.js";
import { userFilterFrom } from "./user-filter.js";
import { type PageRequest, partialUser, readPage, readUser, readUsers } from "./user-reads.js";
import { activateUser, deactivateUser, setUpUser } from "./user-state.js";
import { updateUser } from "./user-updates.js";

export interface UserRegistryDeps extends UserCreationDeps {
  paginator: Paginator;
  restoreWindowMs: number;
  defaultDeadlineMs: number;
  /** Where finishing another process's interrupted Rename or Merge is reported. */
  log: Pick<Logger, "info" | "warn">;
}

/**
 * The UserRegistry service: each method translates its request, calls one
 * user operation (which holds the policy) and translates the result, in
 * the order of user_registry.proto.
 */
export function userRegistry(deps: UserRegistryDeps): ServiceImpl<typeof UserRegistry> {
  const { store } = deps;
  const timeout = databaseTimeout(deps.defaultDeadlineMs);

  /** List or search: one page, its total also in the x-total-count header. */
  async function page(filter: UserFilter, req: PageRequest, ctx: HandlerContext) {
    const { total, ...result } = await readPage(deps, filter, req, timeout(ctx));
    sendTotalCount(ctx, total);
    return { ...result, totalSize: BigInt(total) };
  }

  return {
    async create(req, ctx) {
      const { doc, apiKey } = await createUser(deps, callerOf(ctx), { ...req, user: req.user ?? create(UserSchema) });
      return { user: userFromDocument(doc), apiKey };
    },

    async get(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      return { user: await readUser(store, caller, req.userId, req.fieldMask?.paths ?? [], timeout(ctx)) };
    },

    async getCurrent(req, ctx) {
      const caller = requireCaller(ctx);
      return { user: await readUser(store, caller, caller.userId, req.fieldMask?.paths ?? [], timeout(ctx)) };
    },

    async batchGet(req, ctx) {
      const caller = requireCaller(ctx);
      return readUsers(store, caller, { ...req, paths: req.fieldMask?.paths ?? [] }, timeout(ctx));
    },

    async list(req, ctx) {
      const filter = userFilterFrom({
        query: "",
        idContains: "",
        nameContains: "",
        descriptionContains: "",
        emailContains: "",
        attributesContain: {},
        deleted: req.deleted,
        state: req.state,
        includeSystem: req.includeSystem,
      });
      return page(filter, req, ctx);
    },

    async search(req, ctx) {
      return page(userFilterFrom(req), req, ctx);
    },

    async update(req, ctx) {
      const caller = requireCaller(ctx);
      const update = {
        user: req.user ?? create(UserSchema),
        paths: req.updateMask?.paths ?? [],
        sendEmail: req.sendEmail,
      };
      const { doc, paths } = await updateUser(deps, caller, update, timeout(ctx));
      return { user: partialUser(doc, paths) };
    },

    async delete(req, ctx) {
      requireUserId(req.userId);
      const deletedAt = await deleteUser(store, requireCaller(ctx).userId, req, timeout(ctx));
      return { restorableUntil: timestampFromDate(new Date(deletedAt.getTime() + deps.restoreWindowMs)) };
    },

    async restore(req, ctx) {
      requireUserId(req.userId);
      const restore = { userId: req.userId, restoreWindowMs: deps.restoreWindowMs };
      return { user: userFromDocument(await restoreUser(store, requireCaller(ctx).userId, restore, timeout(ctx))) };
    },

    async purge(req) {
      requireUserId(req.userId);
      await purgeUser(store, req.userId);
      return {};
    },

    async setup(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      return { user: userFromDocument(await setUpUser(deps, caller, req, timeout(ctx))) };
    },

    async activate(req, ctx) {
      const caller = requireCaller(ctx);
      const userId = req.userId || caller.userId;
      requireUserId(userId);
      return { user: userFromDocument(await activateUser(store, caller, userId, timeout(ctx))) };
    },

    async unsetup(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      const { doc, tokensRevoked } = await deactivateUser(deps, caller, req, timeout(ctx));
      return { user: userFromDocument(doc), tokensRevoked: BigInt(tokensRevoked) };
    },

    async merge(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.oldUserId, "old_user_id");
      requireUserId(req.newUserId, "new_user_id");
      await requireMergeRight(store, caller, req.newUserId, req.newUserToken);
      await finishStaleOperations(store, deps.log, [req.oldUserId, req.newUserId]);
      const result = await mergeUsers(store, {
        oldUserId: req.oldUserId,
        newUserId: req.newUserId,
        apiKeys: req.apiKeys === MergeAPIKeys.MERGE_API_KEYS_REVOKE ? "REVOKE" : "MOVE",
        redirect: req.redirect,
        actor: caller.userId,
      });
      return {
        user: userFromDocument(result.user),
        apiKeysMoved: BigInt(result.apiKeysMoved),
        tokensRevoked: BigInt(result.tokensRevoked),
        settingsMoved: BigInt(result.settingsMoved),
      };
    },

    async rename(req, ctx) {
      const caller = requireCaller(ctx);
      requireUserId(req.userId);
      requireUserId(req.newUserId, "new_user_id");
      await finishStaleOperations(store, deps.log, [req.userId, req.newUserId]);
      return { user: userFromDocument(await renameUser(store, req.userId, req.newUserId, caller.userId)) };
    },
  };
}
