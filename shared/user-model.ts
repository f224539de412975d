import { UserSchema } from "../gen/roster/v1/user_pb.js";
import { type FieldSpec, fieldModel } from "./field-model.js";

/** The User message's fields, from their annotations in user.proto. */
export const userModel = fieldModel(UserSchema);

/** One User field by its proto name; throws for a name user.proto does not have. */
export function userField(name: string): FieldSpec {
  const found = userModel.byName.get(name);
  if (!found) throw new Error(`user.proto has no field ${name}`);
  return found;
}
