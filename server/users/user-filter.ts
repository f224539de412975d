import { State } from "../../gen/roster/v1/user_pb.js";
import { type FieldViolation, invalidArgument } from "../errors.js";
import { stateName } from "../store/user-documents.js";
import type { UserFilter } from "../store/users-store.js";
import { attributeKeyPattern } from "./user-validation.js";

/** Longest text accepted by a filter. */
const maxFilterText = 200;

/** The filter fields SearchUsersRequest and ExportUsersRequest share. */
export interface FilterFields {
  query: string;
  idContains: string;
  nameContains: string;
  descriptionContains: string;
  emailContains: string;
  state: State[];
  admin?: boolean;
  attributesContain: Record<string, string>;
  deleted: boolean;
}

/**
 * The store filter of a Search or Export request, checked: text bounded,
 * attribute keys that cannot become operators or paths, valid states.
 * INVALID_ARGUMENT names every bad field.
 */
export function userFilterFrom(req: FilterFields): UserFilter {
  const problems: FieldViolation[] = [];
  const text = (field: string, value: string) => {
    if (value.length > maxFilterText)
      problems.push({ field, description: `must be at most ${maxFilterText} characters` });
    return value || undefined;
  };
  for (const key of Object.keys(req.attributesContain)) {
    if (!attributeKeyPattern.test(key)) {
      problems.push({
        field: `attributes_contain.${key}`,
        description: `key must match ${attributeKeyPattern.source}`,
      });
    }
  }
  req.state.forEach((s, i) => {
    if (!(s in State) || s === State.UNSPECIFIED)
      problems.push({ field: `state[${i}]`, description: "must be a valid state" });
  });
  const filter: UserFilter = {
    deleted: req.deleted,
    query: text("query", req.query),
    idContains: text("id_contains", req.idContains),
    nameContains: text("name_contains", req.nameContains),
    descriptionContains: text("description_contains", req.descriptionContains),
    emailContains: text("email_contains", req.emailContains),
    admin: req.admin,
    attributesContain: { ...req.attributesContain },
  };
  if (problems.length > 0) throw invalidArgument(problems);
  filter.states = req.state.map(stateName);
  return filter;
}
