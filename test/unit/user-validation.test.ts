import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { State, UserSchema } from "../../gen/roster/v1/user_pb.js";
import {
  emailProblem,
  limits,
  userIdMaxLength,
  userIdProblem,
  validateUserFields,
} from "../../server/validation/user-validation.js";

/** The fields a BadRequest names, or [] when `fn` passes. */
function violations(fn: () => void): string[] {
  try {
    fn();
    return [];
  } catch (err) {
    assert.ok(err instanceof ConnectError);
    return err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
  }
}

const idChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789");

describe("user ids", () => {
  it("accept lower-case letters and digits with single dashes between them", () => {
    for (const id of ["ab", "ada", "a-b", "user-42", "0x", "a".repeat(userIdMaxLength)]) {
      assert.equal(userIdProblem(id), undefined, id);
    }
  });

  it("refuse empty, short, long, upper-case, dotted and badly dashed ids", () => {
    for (const id of ["", "a", "Ada", "a.b", "a_b", "-ab", "ab-", "a--b", "ad@example.com", "a".repeat(37)]) {
      assert.notEqual(userIdProblem(id), undefined, id);
    }
  });

  it("accept every id made of dash-separated runs within the length limit", () => {
    const run = fc.array(idChar, { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
    const id = fc
      .array(run, { minLength: 1, maxLength: 6 })
      .map((runs) => runs.join("-"))
      .filter((s) => s.length >= 2 && s.length <= userIdMaxLength);
    fc.assert(fc.property(id, (s) => userIdProblem(s) === undefined));
  });
});

describe("email addresses", () => {
  it("accept an address with one @ and no spaces, including local ones", () => {
    assert.equal(emailProblem("ada@example.com"), undefined);
    assert.equal(emailProblem("admin@localhost"), undefined);
  });

  it("refuse missing, spaced, @-less and overlong addresses", () => {
    assert.equal(emailProblem(""), "is required");
    for (const email of ["ada", "ada @example.com", "a@b@c", `${"a".repeat(250)}@example.com`]) {
      assert.equal(emailProblem(email), "must be an email address", email);
    }
  });
});

describe("validateUserFields", () => {
  it("checks only the fields it is given", () => {
    const user = create(UserSchema, { userId: "Not Valid", primaryEmailAddress: "nope" });
    assert.deepEqual(
      violations(() => validateUserFields(user, ["name"])),
      [],
    );
  });

  it("names every invalid field at once, with the prefix", () => {
    const user = create(UserSchema, {
      userId: "Not Valid",
      primaryEmailAddress: "nope",
      attributes: { ok: "1", $bad: "2", "a.b": "3" },
      state: 99 as State,
    });
    const fields = ["user_id", "primary_email_address", "attributes", "state"] as const;
    assert.deepEqual(violations(() => validateUserFields(user, fields, "users[3].")).sort(), [
      "users[3].attributes.$bad",
      "users[3].attributes.a.b",
      "users[3].primary_email_address",
      "users[3].state",
      "users[3].user_id",
    ]);
  });

  it("refuses the unspecified state and too many attributes", () => {
    const attributes = Object.fromEntries(Array.from({ length: limits.attributes + 1 }, (_, i) => [`k${i}`, "v"]));
    const user = create(UserSchema, { state: State.UNSPECIFIED, attributes });
    assert.deepEqual(violations(() => validateUserFields(user, ["state", "attributes"])).sort(), [
      "user.attributes",
      "user.state",
    ]);
  });

  it("passes a valid user", () => {
    const user = create(UserSchema, {
      userId: "ada",
      primaryEmailAddress: "ada@example.com",
      attributes: { team: "engines", "cost-centre_2": "x" },
      state: State.APPROVED,
    });
    assert.deepEqual(
      violations(() => validateUserFields(user, ["user_id", "primary_email_address", "attributes", "state"])),
      [],
    );
  });
});
