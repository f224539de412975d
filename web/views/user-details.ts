import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { User } from "../../gen/roster/v1/user_pb.js";
import type { FieldSpec } from "../../shared/field-model.js";
import { userField, userModel } from "../../shared/user-model.js";
import { type Child, h } from "../dom.js";
import { stateLabel, timeElement } from "../format.js";

/** What the caller may see of the user, and what the profile form already shows. */
export interface DetailsView {
  /** The caller is this user. */
  self: boolean;
  /** The user is the built-in one. */
  builtIn: boolean;
  /** The caller reads the private fields (email, state, admin, password). */
  readPrivate: boolean;
  /** The profile form shows name and description, so the list leaves them out. */
  canEdit: boolean;
}

/**
 * Fields shown with another one (`state_description` with `state`, who
 * with when), or not shown as details at all.
 */
const shownElsewhere = new Set(["user_id", "state_description", "created_by", "updated_by", "etag"]);

/** Fields shown only when they hold something: what has not happened is no detail. */
const onlyWhenSet = new Set(["deleted_at", "merged_into"]);

/** The fields of a user the console reads: every stored field the caller may read. */
export function readableUserPaths(readPrivate: boolean): string[] {
  return userModel.fields.filter((f) => !f.computed && (readPrivate || f.read === "public")).map((f) => f.name);
}

/**
 * A user's fields as a description list, in user.proto's order and
 * labelled as it annotates them; a field added there shows here too.
 */
export function userDetails(user: User, view: DetailsView): HTMLElement {
  const idNote = view.self ? " (you)" : view.builtIn ? " (built-in)" : "";
  const rows: [string, Child][] = [[userField("user_id").label, `${user.userId}${idNote}`]];
  const editable = view.canEdit ? ["name", "description"] : [];
  for (const field of userModel.fields) {
    if (field.computed || shownElsewhere.has(field.name) || editable.includes(field.name)) continue;
    if (field.read === "private" && !view.readPrivate) continue;
    const value = detailValue(user, field);
    if (value !== undefined) rows.push([field.label, value]);
  }
  return h("dl", { class: "details" }, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

/** How one field's value reads; undefined: not worth a row. */
function detailValue(user: User, field: FieldSpec): Child | undefined {
  const value = (user as unknown as Record<string, unknown>)[field.desc.localName];
  if (onlyWhenSet.has(field.name) && !value) return undefined;
  switch (field.name) {
    case "state":
      return user.stateDescription ? `${stateLabel(user.state)}: ${user.stateDescription}` : stateLabel(user.state);
    case "created_at":
      return changedAt(user.createdAt, user.createdBy);
    case "updated_at":
      return changedAt(user.updatedAt, user.updatedBy);
  }
  switch (field.desc.fieldKind) {
    case "map": {
      const entries = Object.entries(value as Record<string, string>);
      return entries.length > 0 ? h("ul", {}, ...entries.map(([k, v]) => h("li", {}, `${k}: ${v}`))) : undefined;
    }
    case "message":
      return timeElement(value as Timestamp | undefined);
    case "scalar":
      if (typeof value === "boolean") return value ? "Yes" : "No";
      return String(value ?? "") || "—";
    default:
      return String(value ?? "");
  }
}

function changedAt(at: User["createdAt"], by: string): HTMLElement {
  return h("span", {}, timeElement(at), by ? ` by ${by}` : "");
}
