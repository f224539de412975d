import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { type FieldRules, resolveReadMask, resolveUpdateMask } from "../../server/requests/fieldmask.js";
import { userFieldRules } from "../../server/users/user-fields.js";

const rules: FieldRules<"id" | "name" | "email" | "role" | "created"> = {
  id: { read: "public", update: "never" },
  name: { read: "public", update: "self" },
  email: { read: "private", update: "self" },
  role: { read: "private", update: "admin" },
  created: { read: "public", update: "never" },
};
const fields = Object.keys(rules) as (keyof typeof rules)[];

/** The code and ErrorInfo reason of what `fn` throws. */
function failure(fn: () => unknown): { code: Code; reason?: string; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConnectError, `not a ConnectError: ${err}`);
    return { code: err.code, reason: err.findDetails(ErrorInfoSchema)[0]?.reason, message: err.rawMessage };
  }
  assert.fail("it did not throw");
}

describe("read masks", () => {
  it("return every readable field for an empty mask, private ones only to those who may read them", () => {
    assert.deepEqual(resolveReadMask(rules, [], true), fields);
    assert.deepEqual(resolveReadMask(rules, [], false), ["id", "name", "created"]);
  });

  it("return the fields asked for in the rules' order, without duplicates", () => {
    assert.deepEqual(resolveReadMask(rules, ["created", "name", "name"], false), ["name", "created"]);
  });

  it("reject unknown paths as INVALID_ARGUMENT naming each of them", () => {
    const f = failure(() => resolveReadMask(rules, ["name", "password", "nope"], true));
    assert.equal(f.code, Code.InvalidArgument);
    assert.equal(f.reason, "UNKNOWN_FIELD_PATHS");
    assert.match(f.message, /password, nope/);
  });

  it("refuse private paths to callers who may not read them, naming each", () => {
    const f = failure(() => resolveReadMask(rules, ["name", "email", "role"], false));
    assert.equal(f.code, Code.PermissionDenied);
    assert.equal(f.reason, "ADMIN_ONLY_FIELDS");
    assert.match(f.message, /email, role/);
  });

  it("give any caller any subset of the public fields, and nothing else", () => {
    const publicFields = fields.filter((f) => rules[f].read === "public");
    fc.assert(
      fc.property(fc.shuffledSubarray(publicFields, { minLength: 1 }), fc.boolean(), (asked, admin) => {
        const resolved = resolveReadMask(rules, asked, admin);
        assert.deepEqual(
          resolved,
          publicFields.filter((f) => asked.includes(f)),
        );
      }),
    );
  });
});

describe("update masks", () => {
  it("change nothing for an empty mask", () => {
    assert.deepEqual(resolveUpdateMask(rules, [], false), []);
  });

  it("take the paths the caller may change, once each", () => {
    assert.deepEqual(resolveUpdateMask(rules, ["name", "email", "name"], false), ["name", "email"]);
    assert.deepEqual(resolveUpdateMask(rules, ["role"], true), ["role"]);
  });

  it("reject read-only paths as INVALID_ARGUMENT, even for admins", () => {
    const f = failure(() => resolveUpdateMask(rules, ["name", "id", "created"], true));
    assert.equal(f.code, Code.InvalidArgument);
    assert.equal(f.reason, "READ_ONLY_FIELD_PATHS");
    assert.match(f.message, /id, created/);
  });

  it("refuse admin-only paths to others as PERMISSION_DENIED", () => {
    const f = failure(() => resolveUpdateMask(rules, ["name", "role"], false));
    assert.equal(f.code, Code.PermissionDenied);
    assert.equal(f.reason, "ADMIN_ONLY_FIELDS");
  });

  it("reject unknown paths before anything else", () => {
    const f = failure(() => resolveUpdateMask(rules, ["role", "id", "bogus"], false));
    assert.equal(f.reason, "UNKNOWN_FIELD_PATHS");
    assert.match(f.message, /bogus/);
  });
});

describe("the user's field rules", () => {
  it("let anybody read the id and timestamps, and nobody change them", () => {
    for (const field of ["user_id", "created_at", "updated_at"] as const) {
      assert.equal(userFieldRules[field].read, "public");
      assert.equal(userFieldRules[field].update, "never");
    }
  });

  it("keep the password out of every mask", () => {
    assert.equal(failure(() => resolveReadMask(userFieldRules, ["password"], true)).reason, "UNKNOWN_FIELD_PATHS");
    assert.equal(failure(() => resolveUpdateMask(userFieldRules, ["password"], true)).reason, "UNKNOWN_FIELD_PATHS");
  });

  it("leave admin, state and require_password_update to admins", () => {
    for (const field of ["admin", "state", "require_password_update"] as const) {
      assert.equal(failure(() => resolveUpdateMask(userFieldRules, [field], false)).code, Code.PermissionDenied);
      assert.deepEqual(resolveUpdateMask(userFieldRules, [field], true), [field]);
    }
  });
});
