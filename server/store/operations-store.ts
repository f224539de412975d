import type { Collection, Db } from "mongodb";
import { ObjectId } from "mongodb";
import { ensureIndexes } from "./database.js";

/**
 * The journal of one multi-step user operation (Rename, Merge). It is
 * written before the first step, so that any server process can find an
 * operation that a crash left half done and finish it (see
 * users/operation-recovery.ts); it stays, closed, for a while afterwards so
 * that a retried call can be answered as done.
 */
export interface OperationDocument {
  _id: ObjectId;
  kind: "rename" | "merge";
  /** The user the operation changes: the renamed one, or the one merged away. */
  user_ref: ObjectId;
  /** That user's id when the operation began. */
  from: string;
  /** Rename: the new id. Merge: the user merged into. */
  to: string;
  /** Merge only: what happens to API keys. */
  api_keys: "MOVE" | "REVOKE" | null;
  /** Merge only: whether logins as the old account keep working. */
  redirect: boolean;
  actor: string;
  /** `open` until finished (`done`) or given up because it could not start (`abandoned`). */
  state: "open" | "done" | "abandoned";
  started_at: Date;
  finished_at: Date | null;
}

export type NewOperation = Omit<OperationDocument, "_id" | "state" | "started_at" | "finished_at">;

export interface OperationsStore {
  ensureIndexes(): Promise<void>;
  /** Write the journal of an operation about to begin. */
  open(operation: NewOperation): Promise<OperationDocument>;
  /** Open journals, oldest first; of one user when `userRef` is given. */
  listOpen(userRef?: ObjectId): Promise<OperationDocument[]>;
  /** A finished operation of this kind between these ids, if one is remembered. */
  findDone(kind: OperationDocument["kind"], from: string, to: string): Promise<OperationDocument | null>;
  close(id: ObjectId, state: "done" | "abandoned"): Promise<void>;
  /** Remove closed journals that finished before `before`. */
  sweep(before: Date): Promise<number>;
}

export function createOperationsStore(db: Db): OperationsStore {
  const operations: Collection<OperationDocument> = db.collection<OperationDocument>("operations");
  return {
    async ensureIndexes() {
      await ensureIndexes(operations, [
        { key: { state: 1, started_at: 1 }, name: "state_1_started_at_1" },
        { key: { user_ref: 1, state: 1 }, name: "user_ref_1_state_1" },
        { key: { from: 1, to: 1 }, name: "from_1_to_1" },
        { key: { finished_at: 1 }, name: "finished_at_1" },
      ]);
    },
    async open(operation) {
      const doc: OperationDocument = {
        _id: new ObjectId(),
        ...operation,
        state: "open",
        started_at: new Date(),
        finished_at: null,
      };
      await operations.insertOne(doc);
      return doc;
    },
    listOpen(userRef) {
      const query = userRef ? { user_ref: userRef, state: "open" as const } : { state: "open" as const };
      return operations.find(query, { sort: { started_at: 1 } }).toArray();
    },
    findDone(kind, from, to) {
      return operations.findOne({ from, to, kind, state: "done" });
    },
    async close(id, state) {
      await operations.updateOne({ _id: id, state: "open" }, { $set: { state, finished_at: new Date() } });
    },
    async sweep(before) {
      return (await operations.deleteMany({ finished_at: { $ne: null, $lt: before } })).deletedCount;
    },
  };
}
