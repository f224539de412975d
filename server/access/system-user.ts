import { create } from "@bufbuild/protobuf";
import { State, UserSchema } from "../../gen/roster/v1/user_pb.js";
import { errUserIdTaken } from "../../shared/errors.js";
import type { Store } from "../store/store.js";
import { newUserDocument, systemUserId } from "../store/user-documents.js";

/**
 * The id of the built-in system user (Arvados' `system`): the actor of
 * changes the server makes on its own (bootstrap, rehashing a password,
 * sweeps), as recorded in `created_by` and `updated_by`. It exists as a user
 * record so that those ids resolve, but it can never log in: it has no
 * password, Roster issues no token for it, and no RPC may change it.
 */
export const systemActor = systemUserId;

/** Make sure the system user exists (idempotent; safe with several instances). */
export async function ensureSystemUser(store: Store): Promise<void> {
  if (await store.users.getDocument(systemActor, { includeDeleted: true })) return;
  try {
    await store.users.insert(
      newUserDocument(
        create(UserSchema, {
          userId: systemActor,
          name: "System",
          description: "Roster itself: the actor of changes the server makes on its own. Cannot log in.",
          // `.invalid` is reserved (RFC 2606): no mail can reach it.
          primaryEmailAddress: "system@roster.invalid",
          state: State.APPROVED,
        }),
        { created_by: systemActor },
      ),
    );
  } catch (err) {
    if (!errUserIdTaken.is(err)) throw err;
  }
}
