import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { userModel } from "../shared/user-model.js";

/**
 * Users as other systems print them in JSON, turned into Roster's import
 * records (`{ "user": {...}, "password_hash": ... }`, as `roster users
 * export --format json` writes them), for `roster users import`:
 *
 * - The Things Stack (`ttn-lw-cli users list --all`): `{ "ids": { "user_id" },
 *   "name", "primary_email_address", "state": "STATE_APPROVED", ... }`;
 *   the fields Roster shares keep their names and values, the others
 *   (contact_info, universal_rights, ...) are left out.
 * - Keycloak's users endpoint (`GET /admin/realms/{realm}/users`, and
 *   Wallaroo's `/users/query`): `{ "id", "username", "firstName",
 *   "lastName", "email", "emailVerified", "enabled", "createdTimestamp",
 *   "requiredActions", "attributes" }`. The Keycloak id (a UUID, a valid
 *   Roster id) becomes the user id, as Wallaroo names users by it; the
 *   username is kept as the attribute `username`.
 * - Anything else is taken as Roster's own record.
 */
export function recordFromForeign(json: JsonObject): JsonObject {
  if (isObject(json.ids)) return { user: fromTheThingsStack(json) };
  if (typeof json.id === "string" && ("username" in json || "createdTimestamp" in json || "emailVerified" in json)) {
    return { user: fromKeycloak(json) };
  }
  return json;
}

/**
 * The users of a JSON document: an array of users, or an object whose
 * `users` is an array or an object keyed by id (Wallaroo's `/users/query`
 * answer, `{ "users": { "<id>": {...} } }`). Undefined for anything else.
 */
export function usersOfDocument(doc: unknown): unknown[] | undefined {
  if (Array.isArray(doc)) return doc;
  if (isObject(doc) && "users" in doc) {
    const users = doc.users;
    if (Array.isArray(users)) return users;
    if (isObject(users)) return Object.values(users);
  }
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * User fields The Things Stack and Roster share, with the same JSON values:
 * Roster's stored fields by their names (The Things Stack's User has the
 * same names for those it has; user.proto was modelled on it).
 */
const sharedWithTheThingsStack = userModel.fields.filter((f) => !f.computed && f.name !== "user_id").map((f) => f.name);

function fromTheThingsStack(json: JsonObject): JsonObject {
  const user: JsonObject = { user_id: (json.ids as JsonObject).user_id ?? "" };
  for (const field of sharedWithTheThingsStack) {
    const value = json[field] ?? json[camel(field)];
    if (value !== undefined && value !== null) user[field] = value;
  }
  return user;
}

const attributeKey = /^[a-zA-Z0-9_-]{1,64}$/;

function fromKeycloak(json: JsonObject): JsonObject {
  const text = (v: JsonValue | undefined) => (typeof v === "string" ? v : "");
  const user: JsonObject = { user_id: text(json.id) };
  const name = [text(json.firstName), text(json.lastName)].filter(Boolean).join(" ");
  if (name) user.name = name;
  if (text(json.email)) user.primary_email_address = text(json.email);
  const created = typeof json.createdTimestamp === "number" ? new Date(json.createdTimestamp) : undefined;
  if (created) user.created_at = created.toISOString();
  // Keycloak records that an address was verified, not when: the account's creation is the best known time.
  if (json.emailVerified === true && user.primary_email_address) {
    user.primary_email_address_validated_at = (created ?? new Date()).toISOString();
  }
  if (typeof json.enabled === "boolean") user.state = json.enabled ? "STATE_APPROVED" : "STATE_SUSPENDED";
  if (Array.isArray(json.requiredActions) && json.requiredActions.includes("UPDATE_PASSWORD")) {
    user.require_password_update = true;
  }
  const attributes: JsonObject = {};
  if (text(json.username) && text(json.username) !== user.user_id) attributes.username = text(json.username);
  if (isObject(json.attributes)) {
    for (const [key, value] of Object.entries(json.attributes)) {
      if (!attributeKey.test(key)) continue;
      attributes[key] = Array.isArray(value) ? value.map(String).join(",") : String(value);
    }
  }
  if (Object.keys(attributes).length > 0) user.attributes = attributes;
  return user;
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
