import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import {
  ImportConflictPolicy,
  type UserBulk,
  type UserRecord,
  UserRecordSchema,
} from "../../gen/roster/v1/user_bulk_pb.js";
import { errMissingRight, invalidArgument } from "../../shared/errors.js";
import { holds, requireCaller } from "../access/caller.js";
import { maxTimeMS } from "../call-scope/deadline.js";
import { resolveReadMask } from "../requests/fieldmask.js";
import { sendTotalCount } from "../requests/pagination.js";
import type { Store } from "../store/store.js";
import { type UserDocument, userFromDocument } from "../store/user-documents.js";
import { userFieldRules } from "../users/user-fields.js";
import { userFilterFrom } from "../users/user-filter.js";
import { importUsers, maxImportRows } from "./user-import.js";

export interface UserBulkDeps {
  store: Store;
  defaultDeadlineMs: number;
}

/**
 * Users per export message (and per database round trip) when the request
 * sets none, and the most allowed. Small batches keep the server's memory
 * flat: each batch is garbage once sent, and with 100 users the heap stays
 * near its idle size, where 1000 let it grow by 100 MB before the garbage
 * collector catches up.
 */
const defaultExportBatch = 100;
const maxExportBatch = 1000;

function record(doc: Partial<UserDocument>): UserRecord {
  return create(UserRecordSchema, { user: userFromDocument(doc), passwordHash: doc.password_hash ?? "" });
}

/**
 * The UserBulk service: export and import of users. The rights table lets
 * admins with RIGHT_ADMIN_USERS_READ export and those with
 * RIGHT_ADMIN_USERS_WRITE import; password hashes leave only for the latter.
 */
export function userBulk(deps: UserBulkDeps): ServiceImpl<typeof UserBulk> {
  const { store } = deps;

  return {
    async *export(req, ctx: HandlerContext) {
      const caller = requireCaller(ctx);
      if (req.includePasswordHashes && !holds(caller, Right.ADMIN_USERS_WRITE)) {
        throw errMissingRight({ right: "RIGHT_ADMIN_USERS_WRITE" });
      }
      const filter = userFilterFrom(req);
      const fields = resolveReadMask(userFieldRules, req.fieldMask?.paths ?? [], true);
      if (req.batchSize < 0) throw invalidArgument([{ field: "batch_size", description: "must not be negative" }]);
      const batchSize = Math.min(req.batchSize || defaultExportBatch, maxExportBatch);
      const afterUserId = req.afterUserId || undefined;
      // An export takes as long as it takes: only the client's deadline, if it set one, bounds it.
      const timeoutMs = ctx.timeoutMs();
      const databaseTime = timeoutMs === undefined ? undefined : Math.max(1, Math.floor(timeoutMs));
      const total = BigInt(
        await store.usersBulk.count(filter, afterUserId, { signal: ctx.signal, maxTimeMS: databaseTime }),
      );
      sendTotalCount(ctx, total);
      yield { totalSize: total, users: [] };
      for await (const batch of store.usersBulk.scan({
        filter,
        afterUserId,
        fields,
        passwordHashes: req.includePasswordHashes,
        batchSize,
        signal: ctx.signal,
        maxTimeMS: databaseTime,
      })) {
        yield { totalSize: total, users: batch.map(record) };
      }
    },

    async import(req, ctx) {
      const caller = requireCaller(ctx);
      if (req.users.length > maxImportRows) {
        throw invalidArgument([
          { field: "users", description: `at most ${maxImportRows} per call; send the rest in further calls` },
        ]);
      }
      if (!(req.onConflict in ImportConflictPolicy)) {
        throw invalidArgument([{ field: "on_conflict", description: "must be SKIP, UPDATE or FAIL" }]);
      }
      if (req.firstRowNumber < 0n) {
        throw invalidArgument([{ field: "first_row_number", description: "must not be negative" }]);
      }
      const { results, summary } = await importUsers(store, {
        rows: req.users,
        dryRun: req.dryRun,
        onConflict: req.onConflict,
        firstRowNumber: Number(req.firstRowNumber || 1n),
        actor: caller.userId,
        maxTimeMS: maxTimeMS(ctx, deps.defaultDeadlineMs),
      });
      return { results, summary, dryRun: req.dryRun };
    },
  };
}
