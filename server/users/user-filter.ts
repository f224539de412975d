import { State } from "../../gen/roster/v1/user_pb.js";
import { type FieldViolation, invalidArgument } from "../../shared/errors.js";
import { stateName } from "../store/user-documents.js";
import type { UserFilter } from "../store/user-filters.js";
import { attributeKeyPattern } from "../validation/user-validation.js";

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
  /** Search and List only. */
  includeSystem?: boolean;
}

/**
 * The store filter of a Search or Export request, checked: attribute keys
 * that cannot become operators or paths, valid states. (The lengths of the
 * texts are the request rules' business: request-rules.ts.)
 * INVALID_ARGUMENT names every bad field.
 */
export function userFilterFrom(req: FilterFields): UserFilter {
  const problems: FieldViolation[] = [];
  const text = (value: string) => value || undefined;
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
    query: text(req.query),
    idContains: text(req.idContains),
    nameContains: text(req.nameContains),
    descriptionContains: text(req.descriptionContains),
    emailContains: text(req.emailContains),
    admin: req.admin,
    attributesContain: { ...req.attributesContain },
    withSystem: req.includeSystem,
  };
  if (problems.length > 0) throw invalidArgument(problems);
  filter.states = req.state.map(stateName);
  return filter;
}
