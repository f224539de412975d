import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { type ReflectList, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { errEmailNamesAdminOnly, errUserNotFound } from "../../shared/errors.js";
import type { Store } from "../store/store.js";
import type { Caller } from "./caller.js";

/**
 * A user may be named by id or by primary email address wherever a request
 * names an existing user (REANA and Wallaroo name users by email). A user
 * id never contains `@`, so a value with one is an address; this module
 * replaces it by the id of the active user who holds it (case-insensitive),
 * before the rights check and the handler, so that every RPC and every CLI
 * command takes either and the responses carry the canonical `user_id`.
 *
 * The fields are found from the descriptors: request fields named
 * `user_id`, `old_user_id`, `new_user_id` or `user_ids`, and the `user_id`
 * of a message field one level down (`user.user_id` of Update,
 * `api_key.user_id` of UpdateAPIKey), except fields that name a user yet to
 * exist (below).
 *
 * An address nobody holds is NOT_FOUND for a single field; in a list (the
 * ids of BatchGet) it moves to the request's `email_addresses`, so that it
 * is reported missing as an address. So that nobody learns which addresses
 * are registered, only admins may name others by address: anybody else
 * may use their own, and any other address is PERMISSION_DENIED, whether
 * somebody holds it or not.
 */

const namingFields = new Set(["user_id", "old_user_id", "new_user_id", "user_ids"]);

/** Fields that name a user who does not exist yet (a new id), by full name. */
const newUserFields = new Set([
  "roster.v1.CreateUserRequest.user",
  "roster.v1.RenameUserRequest.new_user_id",
  "roster.v1.ImportUsersRequest.users",
]);

interface NamingField {
  /** The request's message field holding the user id field, if it is one level down. */
  parent?: DescField;
  field: DescField;
}

const fieldsByInput = new WeakMap<DescMessage, NamingField[]>();

function isNaming(field: DescField): boolean {
  return (
    namingFields.has(field.name) &&
    !newUserFields.has(`${field.parent.typeName}.${field.name}`) &&
    ((field.fieldKind === "scalar" && field.scalar === 9) ||
      (field.fieldKind === "list" && field.listKind === "scalar"))
  );
}

/** The fields of requests of type `input` that name an existing user. */
export function userNamingFields(input: DescMessage): NamingField[] {
  let found = fieldsByInput.get(input);
  if (found) return found;
  found = [];
  for (const field of input.fields) {
    if (isNaming(field)) found.push({ field });
    else if (field.fieldKind === "message" && !newUserFields.has(`${input.typeName}.${field.name}`)) {
      const inner = field.message.fields.find((f) => f.name === "user_id");
      if (inner && isNaming(inner)) found.push({ parent: field, field: inner });
    }
  }
  fieldsByInput.set(input, found);
  return found;
}

/**
 * Replace the email addresses in the user-naming fields of `message` by the
 * ids of the users holding them (see above). Streamed requests are not
 * looked into.
 */
export async function resolveUserNames(
  store: Store,
  schema: DescMessage,
  message: Message,
  caller: Caller | undefined,
): Promise<void> {
  const fields = userNamingFields(schema);
  if (fields.length === 0 || !caller) return;
  const root = reflect(schema, message as never);
  for (const { parent, field } of fields) {
    let holder: ReflectMessage = root;
    if (parent) {
      if (!root.isSet(parent)) continue;
      holder = root.get(parent) as ReflectMessage;
    }
    if (field.fieldKind === "list") {
      const values = [...holder.get(field)] as string[];
      if (!values.some((v) => v.includes("@"))) continue;
      const addresses = holder.desc.fields.find((f) => f.name === "email_addresses" && f.fieldKind === "list");
      const ids: string[] = [];
      for (const value of values) {
        const id = value.includes("@") ? await idOfAddress(store, value, caller) : value;
        if (id) ids.push(id);
        else if (addresses) (holder.get(addresses) as ReflectList<string>).add(value);
        else ids.push(value);
      }
      const list = holder.get(field);
      list.clear();
      for (const id of ids) list.add(id);
    } else {
      const value = holder.get(field) as string;
      if (!value.includes("@")) continue;
      const id = await idOfAddress(store, value, caller);
      if (!id) throw errUserNotFound({ user_id: value });
      holder.set(field, id);
    }
  }
}

/**
 * The id of the active user whose primary address is `email`, or undefined
 * if nobody holds it; PERMISSION_DENIED for a non-admin naming anybody else.
 */
async function idOfAddress(store: Store, email: string, caller: Caller): Promise<string | undefined> {
  const [user] = await store.users.getMany([], [email], []);
  if (!caller.admin && user?.user_id !== caller.userId) throw errEmailNamesAdminOnly({ email });
  return user?.user_id;
}
