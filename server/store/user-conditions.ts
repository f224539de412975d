import type { Document, Filter } from "mongodb";
import type { UserDocument } from "./user-documents.js";
import { escapeRegex } from "./user-filters.js";

/**
 * A stored user field a condition may test. Attribute fields name one key of
 * `attributes`; keys are checked against the attribute key pattern by whoever
 * builds the condition, so that they are safe as document paths.
 */
export type ConditionField =
  | "user_id"
  | "name"
  | "email_key"
  | "state"
  | "created_at"
  | "updated_at"
  | `attributes.${string}`;

/** How a text or date value is compared. Text comparisons may ignore case. */
export type ConditionOperator = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le" | "pr";

/**
 * A condition on users, as a tree of comparisons (SCIM filters become one):
 * values are data, never operators, and text is matched literally.
 */
export type UserCondition =
  | { op: "and" | "or"; conditions: UserCondition[] }
  | { op: "not"; condition: UserCondition }
  | {
      op: ConditionOperator;
      field: ConditionField;
      /** Absent for `pr`. */
      value?: string | Date | boolean;
      /** Compare text regardless of case. */
      ignoreCase?: boolean;
    };

const textOperators: Record<"co" | "sw" | "ew", (escaped: string) => string> = {
  co: (e) => e,
  sw: (e) => `^${e}`,
  ew: (e) => `${e}$`,
};

const ranges = { gt: "$gt", ge: "$gte", lt: "$lt", le: "$lte" } as const;

/** The stored path of a field (the id is the document key). */
function storedPath(field: ConditionField): string {
  return field === "user_id" ? "_id" : field;
}

/** The query selecting the users `condition` holds for. */
export function conditionQuery(condition: UserCondition): Filter<UserDocument> {
  switch (condition.op) {
    case "and":
      return { $and: condition.conditions.map(conditionQuery) } as Filter<UserDocument>;
    case "or":
      return { $or: condition.conditions.map(conditionQuery) } as Filter<UserDocument>;
    case "not":
      return { $nor: [conditionQuery(condition.condition)] } as Filter<UserDocument>;
    default:
      break;
  }
  const path = storedPath(condition.field);
  const { value } = condition;
  let test: Document;
  if (condition.op === "pr") {
    // Present: not null, and for text not empty.
    test = { $exists: true, $nin: [null, ""] };
  } else if (
    typeof value === "string" &&
    condition.ignoreCase &&
    condition.op !== "gt" &&
    condition.op !== "ge" &&
    condition.op !== "lt" &&
    condition.op !== "le"
  ) {
    const escaped = escapeRegex(value);
    const pattern =
      condition.op === "eq" || condition.op === "ne" ? `^${escaped}$` : textOperators[condition.op](escaped);
    test = { $regex: pattern, $options: "i" };
    if (condition.op === "ne") return { $nor: [{ [path]: test }] } as Filter<UserDocument>;
  } else if (typeof value === "string" && (condition.op === "co" || condition.op === "sw" || condition.op === "ew")) {
    test = { $regex: textOperators[condition.op](escapeRegex(value)) };
  } else if (condition.op === "eq") {
    test = { $eq: value };
  } else if (condition.op === "ne") {
    test = { $ne: value };
  } else if (condition.op === "gt" || condition.op === "ge" || condition.op === "lt" || condition.op === "le") {
    test = { [ranges[condition.op]]: value };
  } else {
    throw new Error(`operator ${condition.op} does not apply to ${typeof value}`);
  }
  return { [path]: test } as Filter<UserDocument>;
}
