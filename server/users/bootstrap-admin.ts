import { create } from "@bufbuild/protobuf";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { State, UserSchema } from "../../gen/roster/v1/user_pb.js";
import { errUserIdTaken } from "../../shared/errors.js";
import { issueApiKey } from "../access/api-keys.js";
import { systemActor } from "../access/system-user.js";
import type { Store } from "../store/store.js";
import { newUserDocument } from "../store/user-documents.js";
import { changeUser } from "../user-changes/user-changes.js";

/**
 * Make sure `userId` is an approved admin (creating it with `email` if it
 * does not exist) and issue a fresh API key with every right for it. This is
 * how an operator gets in on a new installation, and back in when every
 * admin key is lost.
 */
export async function bootstrapAdmin(
  store: Store,
  options: { userId: string; email: string },
): Promise<{ userId: string; apiKey: string; created: boolean }> {
  let created = false;
  let user = await store.users.getDocument(options.userId);
  if (!user) {
    try {
      user = await store.users.insert(
        newUserDocument(
          create(UserSchema, {
            userId: options.userId,
            name: "Administrator",
            primaryEmailAddress: options.email,
            state: State.APPROVED,
            admin: true,
          }),
          { created_by: systemActor },
        ),
      );
      created = true;
    } catch (err) {
      // Created concurrently by another instance: use that one.
      if (!errUserIdTaken.is(err)) throw err;
      user = await store.users.getDocument(options.userId);
      if (!user) throw err;
    }
  }
  if (!user.admin || user.state !== "APPROVED") {
    user = await changeUser(
      store,
      options.userId,
      (current) => ({ ...current, admin: true, state: "APPROVED", updated_at: new Date() }),
      { actor: systemActor },
    );
  }
  const key = await issueApiKey(store, user, {
    name: "bootstrap",
    rights: [Right.USER_ALL, Right.ADMIN_ALL],
    expiresAt: null,
    createdBy: systemActor,
    nameTaken: "suffix",
  });
  return { userId: user.user_id, apiKey: key.secret, created };
}
