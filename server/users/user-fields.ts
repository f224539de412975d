import { maskRules } from "../../shared/field-model.js";
import { userModel } from "../../shared/user-model.js";
import type { FieldRules } from "../requests/fieldmask.js";
import type { UserField } from "../store/user-documents.js";

/**
 * Who may read and change each User field: the table behind every field
 * mask of the UserRegistry, read from the annotations in user.proto
 * (`roster.v1.field` read/update, google.api.field_behavior). `password`
 * is not a field: it is write-only and travels in CreateUserRequest and the
 * password RPCs.
 */
export const userFieldRules: FieldRules<UserField> = maskRules(userModel);
