import type { User } from "../../gen/roster/v1/user_pb.js";
import { userField } from "../../shared/user-model.js";
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

/** A user's fields as a description list, labelled as user.proto annotates them. */
export function userDetails(user: User, view: DetailsView): HTMLElement {
  const label = (field: string) => userField(field).label;
  const rows: [string, Child][] = [
    [label("user_id"), view.self ? `${user.userId} (you)` : view.builtIn ? `${user.userId} (built-in)` : user.userId],
  ];
  if (!view.canEdit) rows.push([label("name"), user.name || "—"], [label("description"), user.description || "—"]);
  if (view.readPrivate) {
    rows.push(
      [label("primary_email_address"), user.primaryEmailAddress || "—"],
      [label("primary_email_address_validated_at"), timeElement(user.primaryEmailAddressValidatedAt)],
      [
        label("state"),
        user.stateDescription ? `${stateLabel(user.state)}: ${user.stateDescription}` : stateLabel(user.state),
      ],
      [label("admin"), user.admin ? "Yes" : "No"],
      [label("password_updated_at"), timeElement(user.passwordUpdatedAt)],
      [label("require_password_update"), user.requirePasswordUpdate ? "Yes" : "No"],
    );
  }
  rows.push(
    [label("created_at"), changedAt(user.createdAt, user.createdBy)],
    [label("updated_at"), changedAt(user.updatedAt, user.updatedBy)],
  );
  const attributes = Object.entries(user.attributes);
  if (attributes.length > 0)
    rows.push([label("attributes"), h("ul", {}, ...attributes.map(([k, v]) => h("li", {}, `${k}: ${v}`)))]);
  return h("dl", { class: "details" }, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function changedAt(at: User["createdAt"], by: string): HTMLElement {
  return h("span", {}, timeElement(at), by ? ` by ${by}` : "");
}
