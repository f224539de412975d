import type { Right } from "../../gen/roster/v1/rights_pb.js";
import { Right as RightEnum } from "../../gen/roster/v1/rights_pb.js";
import { errApiKeyNameTaken, errSystemUser } from "../../shared/errors.js";
import { rightName } from "../rights/rights.js";
import { hashToken, isRecordId, newRecordId, newToken } from "../secrets/token-format.js";
import { isDuplicateKeyError } from "../store/database.js";
import type { Store } from "../store/store.js";
import { freeTokenName } from "../store/token-names.js";
import type { TokenDocument, TokenKey } from "../store/tokens-store.js";
import { systemUserId, type UserDocument } from "../store/user-documents.js";

/** Prefix of API key ids (`newRecordId`). */
export const apiKeyIdPrefix = "ak";

/** Whether `text` has the form of an API key id, which no key name may have. */
export function isApiKeyId(text: string): boolean {
  return isRecordId(apiKeyIdPrefix, text);
}

/**
 * The key a request's `id` names: by id when it has the form of one (names
 * never have it), otherwise by name, as Conch names tokens.
 */
export function apiKeyByIdOrName(idOrName: string): TokenKey {
  return isApiKeyId(idOrName) ? { key_id: idOrName } : { name: idOrName };
}

/** A new API key: its record id and the secret, which is shown only now. */
export interface IssuedApiKey {
  id: string;
  name: string;
  secret: string;
  createdAt: Date;
}

/**
 * Insert `doc` under its name or, with `rename`, under the first free
 * `<name>-<n>` (keys made for the user by Roster itself: the bootstrap
 * key, a retrieved token request, an imported token). Without `rename`, a
 * taken name is ALREADY_EXISTS.
 */
async function insertNamed(store: Store, doc: TokenDocument, rename: boolean): Promise<TokenDocument> {
  for (let attempt = 0; ; attempt++) {
    try {
      await store.tokens.insert(doc);
      return doc;
    } catch (err) {
      // Secret hashes and ids are random: the name is what collides.
      if (!isDuplicateKeyError(err)) throw err;
      if (!rename || attempt >= 5) throw errApiKeyNameTaken({ name: doc.name, user_id: doc.user_id }, err);
      const taken = await store.tokens.namesLike(doc.user_ref, doc.kind, doc.name);
      doc = { ...doc, name: freeTokenName(doc.name, taken) };
    }
  }
}

/** Create an API key for `user`; only its hash is stored. */
export async function issueApiKey(
  store: Store,
  user: Pick<UserDocument, "ref" | "user_id">,
  options: {
    id?: string;
    name: string;
    rights: readonly Right[];
    expiresAt: Date | null;
    createdBy: string;
    /** When the name is taken: ALREADY_EXISTS (`fail`) or the first free `<name>-<n>`. */
    nameTaken: "fail" | "suffix";
  },
): Promise<IssuedApiKey> {
  if (user.user_id === systemUserId) throw errSystemUser({});
  const secret = newToken("apiKey");
  const createdAt = new Date();
  const id = options.id ?? newRecordId(apiKeyIdPrefix);
  const doc = await insertNamed(
    store,
    {
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
    },
    options.nameTaken === "suffix",
  );
  return { id, name: doc.name, secret, createdAt };
}

/**
 * Keep an access token from another system working as an API key of
 * `user` named `imported` (or `imported-<n>`) with every user right
 * (UserBulk.Import's `api_key`). Only its hash is stored; a token already
 * stored is left as it is, so importing again changes nothing.
 */
export async function importApiKey(
  store: Store,
  user: Pick<UserDocument, "ref" | "user_id">,
  secret: string,
  createdBy: string,
): Promise<void> {
  const hash = hashToken(secret);
  if (await store.tokens.findBySecretHash(hash)) return;
  try {
    await insertNamed(
      store,
      {
        _id: hash,
        key_id: newRecordId(apiKeyIdPrefix),
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
      },
      true,
    );
  } catch (err) {
    // Imported concurrently (the same secret): as if it had been stored before.
    if (!(await store.tokens.findBySecretHash(hash))) throw err;
  }
}
