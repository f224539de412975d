import type { Right } from "../../gen/roster/v1/rights_pb.js";
import { Right as RightEnum } from "../../gen/roster/v1/rights_pb.js";
import { errSystemUser } from "../errors.js";
import type { Store } from "../store/store.js";
import { systemUserId, type UserDocument } from "../store/user-documents.js";
import { rightName } from "./rights.js";
import { hashToken, newRecordId, newToken } from "./token-format.js";

/** A new API key: its record id and the secret, which is shown only now. */
export interface IssuedApiKey {
  id: string;
  secret: string;
  createdAt: Date;
}

/** Create an API key for `user`; only its hash is stored. */
export async function issueApiKey(
  store: Store,
  user: Pick<UserDocument, "ref" | "user_id">,
  options: { id?: string; name: string; rights: readonly Right[]; expiresAt: Date | null; createdBy: string },
): Promise<IssuedApiKey> {
  if (user.user_id === systemUserId) throw errSystemUser({});
  const secret = newToken("apiKey");
  const createdAt = new Date();
  const id = options.id ?? newRecordId("ak");
  await store.tokens.insert({
    _id: hashToken(secret),
    key_id: id,
    kind: "api_key",
    user_id: user.user_id,
    user_ref: user.ref,
    name: options.name,
    rights: options.rights.map(rightName),
    created_at: createdAt,
    expires_at: options.expiresAt,
    last_used_at: null,
    created_by: options.createdBy,
    revision: 1,
  });
  return { id, secret, createdAt };
}

/**
 * Keep an access token from another system working as an API key of
 * `user` named `imported` with every user right (UserBulk.Import's
 * `api_key`). Only its hash is stored; a token already stored is left as
 * it is, so importing again changes nothing.
 */
export async function importApiKey(
  store: Store,
  user: Pick<UserDocument, "ref" | "user_id">,
  secret: string,
  createdBy: string,
): Promise<void> {
  await store.tokens.insertIfAbsent({
    _id: hashToken(secret),
    key_id: newRecordId("ak"),
    kind: "api_key",
    user_id: user.user_id,
    user_ref: user.ref,
    name: "imported",
    rights: [rightName(RightEnum.USER_ALL)],
    created_at: new Date(),
    expires_at: null,
    last_used_at: null,
    created_by: createdBy,
    revision: 1,
  });
}
