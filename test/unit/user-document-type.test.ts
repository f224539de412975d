import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StateName, UserDocument } from "../../server/store/user-documents.js";

/** True only when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// Checked by the compiler (npm run build fails otherwise); the test only says so.
const checks = {
  name: true as Same<UserDocument["name"], string>,
  state: true as Same<UserDocument["state"], StateName>,
  admin: true as Same<UserDocument["admin"], boolean>,
  attributes: true as Same<UserDocument["attributes"], { [key: string]: string }>,
  validatedAt: true as Same<UserDocument["primary_email_address_validated_at"], Date | null>,
  deletedAt: true as Same<UserDocument["deleted_at"], Date | null>,
  createdAt: true as Same<UserDocument["created_at"], Date>,
  storeOnly: true as Same<UserDocument["password_hash"], string | null>,
  noComputed: true as Same<"token_status" extends keyof UserDocument ? true : false, false>,
} satisfies Record<string, true>;

describe("the stored user's type", () => {
  it("is derived from the User message: proto names, stored kinds, no computed field", () => {
    assert.ok(Object.values(checks).every((c) => c === true));
  });
});
