import { type Filter, parse } from "scim2-parse-filter";
import { filterTextMaxChars } from "../requests/request-rules.js";
import type { ConditionField, UserCondition } from "../store/user-conditions.js";
import { ScimError } from "./scim-error.js";
import { coreUserSchema, enterpriseFields, enterpriseUserSchema } from "./scim-schemas.js";
import { attributeKeys } from "./scim-users.js";

/** Longest filter accepted, and most comparisons in one. */
export const maxFilterChars = 4000;
const maxComparisons = 50;

type Compare = Extract<Filter, { compValue: unknown }>;

interface Target {
  field: ConditionField;
  kind: "text" | "date";
  /** Compared regardless of case (caseExact false in the schema). */
  ignoreCase: boolean;
  /** Values are compared lower-cased (the stored value is). */
  lower?: boolean;
}

/** Filterable attributes (lower-cased paths) and the stored field each compares. */
const targets: Record<string, Target> = {
  id: { field: "user_id", kind: "text", ignoreCase: false },
  externalid: { field: `attributes.${attributeKeys.externalId}`, kind: "text", ignoreCase: false },
  displayname: { field: "name", kind: "text", ignoreCase: true },
  "name.formatted": { field: "name", kind: "text", ignoreCase: true },
  "name.givenname": { field: `attributes.${attributeKeys.givenName}`, kind: "text", ignoreCase: true },
  "name.familyname": { field: `attributes.${attributeKeys.familyName}`, kind: "text", ignoreCase: true },
  emails: { field: "email_key", kind: "text", ignoreCase: false, lower: true },
  "emails.value": { field: "email_key", kind: "text", ignoreCase: false, lower: true },
  "meta.created": { field: "created_at", kind: "date", ignoreCase: false },
  "meta.lastmodified": { field: "updated_at", kind: "date", ignoreCase: false },
  ...Object.fromEntries(
    enterpriseFields.map((f) => [f.toLowerCase(), { field: `attributes.scim_${f}`, kind: "text", ignoreCase: true }]),
  ),
  manager: { field: `attributes.${attributeKeys.manager}`, kind: "text", ignoreCase: true },
  "manager.value": { field: `attributes.${attributeKeys.manager}`, kind: "text", ignoreCase: true },
};

/** An attribute path without its schema URN, lower-cased. */
function attributePath(path: string): string {
  const lower = path.toLowerCase();
  for (const urn of [coreUserSchema, enterpriseUserSchema]) {
    if (lower.startsWith(`${urn.toLowerCase()}:`)) return lower.slice(urn.length + 1);
  }
  return lower;
}

function invalid(detail: string): ScimError {
  return new ScimError(400, detail, "invalidFilter");
}

/**
 * A SCIM filter (RFC 7644 section 3.4.2.2) as a condition on stored users.
 * Values stay data and text matches literally (the store escapes it);
 * attributes Roster cannot filter on are `invalidFilter`.
 */
export function conditionOfFilter(text: string): UserCondition {
  if (text.length > maxFilterChars) throw invalid(`the filter is longer than ${maxFilterChars} characters`);
  let ast: Filter;
  try {
    ast = parse(text);
  } catch (err) {
    throw invalid(`the filter cannot be parsed: ${(err as Error).message}`);
  }
  let comparisons = 0;
  const convert = (f: Filter, prefix: string): UserCondition => {
    switch (f.op) {
      case "and":
      case "or":
        return { op: f.op, conditions: f.filters.map((x) => convert(x, prefix)) };
      case "not":
        return { op: "not", condition: convert(f.filter, prefix) };
      case "[]": {
        const outer = attributePath(f.attrPath);
        if (outer !== "emails") throw invalid(`${f.attrPath}[...] is not a filterable attribute`);
        return convert(f.valFilter, `${outer}.`);
      }
      default:
        if (++comparisons > maxComparisons) throw invalid(`a filter may hold at most ${maxComparisons} comparisons`);
        return comparison(f, prefix);
    }
  };
  return convert(ast, "");
}

function comparison(f: Compare | Extract<Filter, { op: "pr" }>, prefix: string): UserCondition {
  const path = prefix + attributePath(f.attrPath);
  if (path === "emails.primary") {
    // Only the primary address is searchable; `primary eq true` holds for it.
    if (f.op === "pr") return { op: "pr", field: "email_key" };
    if (f.op === "eq" && f.compValue === true) return { op: "pr", field: "email_key" };
    throw invalid("emails.primary can only be tested with pr or eq true");
  }
  if (path === "active") {
    if (f.op === "pr") return { op: "pr", field: "state" };
    if ((f.op === "eq" || f.op === "ne") && typeof f.compValue === "boolean") {
      const approved = f.compValue === (f.op === "eq");
      return { op: approved ? "eq" : "ne", field: "state", value: "APPROVED" };
    }
    throw invalid("active can only be tested with pr, eq or ne and true or false");
  }
  if (path === "username") return userNameCondition(f);
  const target = targets[path];
  if (!target) throw invalid(`${f.attrPath} is not a filterable attribute`);
  if (f.op === "pr") return { op: "pr", field: target.field };
  const value = f.compValue;
  if (target.kind === "date") {
    const date = typeof value === "string" ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw invalid(`${f.attrPath} must be compared with a date`);
    if (f.op === "co" || f.op === "sw" || f.op === "ew") throw invalid(`${f.op} does not apply to ${f.attrPath}`);
    return { op: f.op, field: target.field, value: date };
  }
  if (typeof value !== "string") throw invalid(`${f.attrPath} must be compared with a string`);
  if (value.length > filterTextMaxChars) throw invalid(`filter values are at most ${filterTextMaxChars} characters`);
  return {
    op: f.op,
    field: target.field,
    value: target.lower ? value.toLowerCase() : value,
    ignoreCase: target.ignoreCase,
  };
}

/**
 * userName is the user id, or the email-shaped userName the user was
 * provisioned with (kept as an attribute): a comparison holds if it holds
 * for either. Ids are lower-case, so an `eq` on them is an exact lookup.
 */
function userNameCondition(f: Compare | Extract<Filter, { op: "pr" }>): UserCondition {
  if (f.op === "pr") return { op: "pr", field: "user_id" };
  const value = f.compValue;
  if (typeof value !== "string") throw invalid("userName must be compared with a string");
  if (value.length > filterTextMaxChars) throw invalid(`filter values are at most ${filterTextMaxChars} characters`);
  const attribute = `attributes.${attributeKeys.userName}` as const;
  if (f.op === "ne") {
    return { op: "not", condition: userNameCondition({ ...f, op: "eq" }) };
  }
  const byId: UserCondition =
    f.op === "eq"
      ? { op: "eq", field: "user_id", value: value.toLowerCase() }
      : { op: f.op, field: "user_id", value: value.toLowerCase() };
  return { op: "or", conditions: [byId, { op: f.op, field: attribute, value, ignoreCase: true }] };
}
