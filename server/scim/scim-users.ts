import { timestampDate } from "@bufbuild/protobuf/wkt";
import { State, type User } from "../../gen/roster/v1/user_pb.js";
import { emailProblem, userIdMaxLength, userIdPattern } from "../validation/user-validation.js";
import { ScimError } from "./scim-error.js";
import { coreUserSchema, enterpriseFields, enterpriseUserSchema } from "./scim-schemas.js";

/**
 * The mapping between SCIM User resources and Roster users (the README has
 * it as a table). What Roster has no field for is kept in attributes whose
 * keys start with `scim_`; the user's other attributes are never touched.
 */
export const scimAttributePrefix = "scim_";
export const attributeKeys = {
  externalId: "scim_externalId",
  userName: "scim_userName",
  formatted: "scim_formatted",
  givenName: "scim_givenName",
  familyName: "scim_familyName",
  emails: "scim_emails",
  manager: "scim_manager",
  /** "name" when Roster's name came from name.* because no displayName was given. */
  nameFrom: "scim_nameFrom",
} as const;

/** One entry of `emails`. */
export interface ScimEmail {
  value: string;
  type?: string;
  primary?: boolean;
  display?: string;
}

/** A SCIM User resource as Roster serves it. */
export interface ScimUser {
  schemas: string[];
  id?: string;
  externalId?: string;
  userName?: string;
  name?: { formatted?: string; givenName?: string; familyName?: string };
  displayName?: string;
  active?: boolean;
  emails?: ScimEmail[];
  password?: string;
  [enterpriseUserSchema]?: Record<string, unknown>;
  meta: { resourceType: string; created: string; lastModified: string; location: string; version: string };
}

/** The weak ETag of a Roster etag. */
export function weakEtag(etag: string): string {
  return `W/"${etag}"`;
}

function parseEmails(text: string | undefined): ScimEmail[] {
  if (!text) return [];
  try {
    const list = JSON.parse(text) as unknown;
    return Array.isArray(list) ? list.filter((e): e is ScimEmail => typeof e?.value === "string") : [];
  } catch {
    return [];
  }
}

/** The SCIM view of a user. */
export function scimUserOf(user: User, base: string): ScimUser {
  const a = user.attributes;
  const location = `${base}/Users/${user.userId}`;
  const emails = parseEmails(a[attributeKeys.emails]);
  const primaryIndex = emails.findIndex((e) => e.primary);
  if (user.primaryEmailAddress) {
    // Roster's primary address is the entry marked primary, or the first.
    const i = Math.max(primaryIndex, 0);
    if (emails[i]?.value.toLowerCase() !== user.primaryEmailAddress.toLowerCase()) {
      // The primary address has changed through the gRPC API since.
      emails.splice(i, emails[i] && primaryIndex >= 0 ? 1 : 0, { value: user.primaryEmailAddress, primary: true });
    } else {
      // The flag as the client sent it: RFC 7643 allows a list without a primary.
      emails[i] = { ...emails[i], value: user.primaryEmailAddress };
    }
  }
  const name: ScimUser["name"] = {};
  if (a[attributeKeys.formatted]) name.formatted = a[attributeKeys.formatted];
  if (a[attributeKeys.givenName]) name.givenName = a[attributeKeys.givenName];
  if (a[attributeKeys.familyName]) name.familyName = a[attributeKeys.familyName];
  const enterprise: Record<string, unknown> = {};
  for (const f of enterpriseFields) if (a[`scim_${f}`]) enterprise[f] = a[`scim_${f}`];
  if (a[attributeKeys.manager]) enterprise.manager = { value: a[attributeKeys.manager] };
  const hasEnterprise = Object.keys(enterprise).length > 0;
  const created = user.createdAt ? timestampDate(user.createdAt).toISOString() : "";
  return {
    schemas: hasEnterprise ? [coreUserSchema, enterpriseUserSchema] : [coreUserSchema],
    id: user.userId,
    ...(a[attributeKeys.externalId] ? { externalId: a[attributeKeys.externalId] } : {}),
    userName: a[attributeKeys.userName] || user.userId,
    ...(name.formatted || name.givenName || name.familyName ? { name } : {}),
    ...(user.name && a[attributeKeys.nameFrom] !== "name" ? { displayName: user.name } : {}),
    active: user.state === State.APPROVED,
    ...(emails.length > 0 ? { emails } : {}),
    ...(hasEnterprise ? { [enterpriseUserSchema]: enterprise } : {}),
    meta: {
      resourceType: "User",
      created,
      lastModified: user.updatedAt ? timestampDate(user.updatedAt).toISOString() : created,
      location,
      version: weakEtag(user.etag),
    },
  };
}

/** What a SCIM User resource sets on a Roster user. */
export interface RosterFields {
  /** The id the userName names, or the one derived from an email-shaped userName. */
  userId: string;
  /** Whether `userId` was derived (and may take a suffix when taken). */
  derived: boolean;
  name: string;
  email: string;
  /** The `scim_` attributes (the user's others are kept as they are). */
  attributes: Record<string, string>;
  active: boolean;
  /** Whether `active` was given (a REQUESTED user, shown inactive, is suspended only when it is). */
  activeGiven: boolean;
  password?: string;
}

/** Accept `true`, `"True"`, `"false"`... as Entra sends them. */
export function booleanOf(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  throw new ScimError(400, `${field} must be a boolean`, "invalidValue");
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ScimError(400, `${field} must be a string`, "invalidValue");
  return value;
}

/** Lower-case keys of an object, so that attribute names match regardless of case (RFC 7643 section 2.1). */
function lowerKeys(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) out[k.toLowerCase()] = v;
  }
  return out;
}

/** A valid user id from an email address's local part (Arvados' rule for usernames). */
export function userIdFromEmail(email: string): string {
  const local = email.split("@")[0] ?? "";
  let id = local
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  id = id.slice(0, userIdMaxLength - 4).replace(/-+$/, "");
  return id.length >= 2 ? id : `user-${id || "x"}`;
}

/**
 * The Roster fields a full SCIM User resource (POST, PUT, or the result of
 * a PATCH) describes.
 */
export function rosterFieldsOf(resource: unknown): RosterFields {
  const r = lowerKeys(resource);
  const userName = text(r.username, "userName")?.trim();
  if (!userName) throw new ScimError(400, "userName is required", "invalidValue");
  const attributes: Record<string, string> = {};
  let userId: string;
  let derived = false;
  if (userIdPattern.test(userName) && userName.length <= userIdMaxLength) {
    userId = userName;
  } else if (!emailProblem(userName)) {
    userId = userIdFromEmail(userName);
    derived = true;
    attributes[attributeKeys.userName] = userName;
  } else {
    throw new ScimError(
      400,
      "userName must be a Roster user id (lower-case letters, digits and single dashes, 2 to 36) or an email address",
      "invalidValue",
    );
  }

  const externalId = text(r.externalid, "externalId");
  if (externalId) attributes[attributeKeys.externalId] = externalId;

  const name = lowerKeys(r.name);
  const formatted = text(name.formatted, "name.formatted");
  const givenName = text(name.givenname, "name.givenName");
  const familyName = text(name.familyname, "name.familyName");
  const displayName = text(r.displayname, "displayName");
  if (givenName) attributes[attributeKeys.givenName] = givenName;
  if (familyName) attributes[attributeKeys.familyName] = familyName;
  const rosterName = displayName || formatted || [givenName, familyName].filter(Boolean).join(" ");
  if (formatted) attributes[attributeKeys.formatted] = formatted;
  if (!displayName && rosterName) attributes[attributeKeys.nameFrom] = "name";

  if (r.emails !== undefined && r.emails !== null && !Array.isArray(r.emails)) {
    throw new ScimError(400, "emails must be a list", "invalidValue");
  }
  const emails: ScimEmail[] = ((r.emails as unknown[] | undefined) ?? []).map((e, i) => {
    const entry = lowerKeys(e);
    const value = text(entry.value, `emails[${i}].value`);
    if (!value) throw new ScimError(400, `emails[${i}].value is required`, "invalidValue");
    const out: ScimEmail = { value };
    const type = text(entry.type, `emails[${i}].type`);
    if (type) out.type = type;
    const display = text(entry.display, `emails[${i}].display`);
    if (display) out.display = display;
    if (entry.primary !== undefined && entry.primary !== null)
      out.primary = booleanOf(entry.primary, `emails[${i}].primary`);
    return out;
  });
  if (emails.filter((e) => e.primary).length > 1) {
    throw new ScimError(400, "at most one email may be primary", "invalidValue");
  }
  const primary = emails.find((e) => e.primary) ?? emails[0];
  const email = primary?.value ?? (derived ? userName : "");
  if (!email)
    throw new ScimError(400, "an email address (emails, or an email-shaped userName) is required", "invalidValue");
  // Kept as sent unless it is just the primary address, which Roster's own field holds.
  if (emails.length > 1 || emails.some((e) => e.type || e.display || !e.primary)) {
    attributes[attributeKeys.emails] = JSON.stringify(emails);
  }

  const enterprise = lowerKeys(r[enterpriseUserSchema.toLowerCase()]);
  for (const f of enterpriseFields) {
    const value = text(enterprise[f.toLowerCase()], f);
    if (value) attributes[`scim_${f}`] = value;
  }
  const manager = enterprise.manager;
  const managerId = typeof manager === "string" ? manager : text(lowerKeys(manager).value, "manager.value");
  if (managerId) attributes[attributeKeys.manager] = managerId;

  const password = text(r.password, "password");
  return {
    userId,
    derived,
    name: rosterName,
    email,
    attributes,
    active: r.active === undefined || r.active === null ? true : booleanOf(r.active, "active"),
    activeGiven: r.active !== undefined && r.active !== null,
    ...(password ? { password } : {}),
  };
}

/** The user's attributes with the `scim_` ones replaced by `scim`. */
export function mergedAttributes(
  current: Record<string, string>,
  scim: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(current)) if (!k.startsWith(scimAttributePrefix)) out[k] = v;
  return { ...out, ...scim };
}
