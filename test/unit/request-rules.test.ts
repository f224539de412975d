import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import { CreateAPIKeyRequestSchema } from "../../gen/roster/v1/user_access_pb.js";
import { State, UserSchema } from "../../gen/roster/v1/user_pb.js";
import { CreateUserRequestSchema, SearchUsersRequestSchema } from "../../gen/roster/v1/user_registry_pb.js";
import {
  defaultTextRule,
  filterTextMaxChars,
  passwordMaxChars,
  requestProblems,
} from "../../server/requests/request-rules.js";
import { codePointCount, textProblem } from "../../server/validation/text.js";
import { limits } from "../../server/validation/user-validation.js";

const fields = (problems: { field: string }[]) => problems.map((p) => p.field).sort();

describe("request rules", () => {
  it("pass a well-formed request", () => {
    const user = create(UserSchema, { userId: "ada", name: "Ada\nLovelace", primaryEmailAddress: "ada@example.com" });
    assert.deepEqual(requestProblems(CreateUserRequestSchema, create(CreateUserRequestSchema, { user })), []);
  });

  it("name every field over its limit, in code points, with its path", () => {
    const user = create(UserSchema, {
      userId: "ada",
      name: "n".repeat(limits.name + 1),
      description: "é".repeat(limits.description),
      attributes: { team: "t".repeat(limits.attributeValue + 1) },
    });
    const request = create(SearchUsersRequestSchema, { query: "q".repeat(filterTextMaxChars + 1) });
    assert.deepEqual(fields(requestProblems(CreateUserRequestSchema, create(CreateUserRequestSchema, { user }))), [
      "user.attributes.team",
      "user.name",
    ]);
    assert.deepEqual(fields(requestProblems(SearchUsersRequestSchema, request, "x.")), ["x.query"]);
  });

  it("count an emoji as one character", () => {
    const name = "🙂".repeat(limits.name);
    assert.equal(codePointCount(name), limits.name);
    const user = create(UserSchema, { userId: "ada", name });
    assert.deepEqual(requestProblems(CreateUserRequestSchema, create(CreateUserRequestSchema, { user })), []);
  });

  it("refuse control characters outside free text, and line breaks in one-line fields", () => {
    const user = create(UserSchema, { userId: "ada", name: "a\u0000b", stateDescription: "ok\ttoo" });
    const request = create(CreateAPIKeyRequestSchema, { name: "two\nlines" });
    assert.deepEqual(fields(requestProblems(CreateUserRequestSchema, create(CreateUserRequestSchema, { user }))), [
      "user.name",
    ]);
    assert.deepEqual(fields(requestProblems(CreateAPIKeyRequestSchema, request)), ["name"]);
  });

  it("let passwords hold any character, within their own bound", () => {
    const ok = create(CreateUserRequestSchema, { password: "\u0000\ttab\nand 🙂" });
    const long = create(CreateUserRequestSchema, { password: "p".repeat(passwordMaxChars + 1) });
    assert.deepEqual(requestProblems(CreateUserRequestSchema, ok), []);
    assert.deepEqual(fields(requestProblems(CreateUserRequestSchema, long)), ["password"]);
  });

  it("refuse enum numbers the enum does not define, and unspecified values in lists", () => {
    const user = create(UserSchema, { userId: "ada", state: 42 as State });
    const request = create(CreateAPIKeyRequestSchema, { rights: [Right.USER_INFO, Right.UNSPECIFIED, 99 as Right] });
    assert.deepEqual(fields(requestProblems(CreateUserRequestSchema, create(CreateUserRequestSchema, { user }))), [
      "user.state",
    ]);
    assert.deepEqual(fields(requestProblems(CreateAPIKeyRequestSchema, request)), ["rights[1]", "rights[2]"]);
  });

  it("refuse attribute keys that could become query operators or paths", () => {
    const user = create(UserSchema, { userId: "ada", attributes: { $where: "x", "a.b": "y", fine: "z" } });
    assert.deepEqual(fields(requestProblems(CreateUserRequestSchema, create(CreateUserRequestSchema, { user }))), [
      "user.attributes.$where",
      "user.attributes.a.b",
    ]);
  });

  it("refuse timestamps outside the years 1 to 9999", () => {
    const expiresAt = { seconds: 253402300800n, nanos: 0 };
    const request = create(CreateAPIKeyRequestSchema, { expiresAt });
    assert.deepEqual(fields(requestProblems(CreateAPIKeyRequestSchema, request)), ["expires_at"]);
  });

  it("accept any one-line text of printable characters within the default limit", () => {
    const printable = fc.string({ unit: "grapheme", maxLength: 200 }).filter((s) => !/\p{Cc}|\p{Cs}/u.test(s));
    fc.assert(fc.property(printable, (s) => textProblem(s, defaultTextRule) === undefined));
  });

  it("check every state filter of a search", () => {
    const request = create(SearchUsersRequestSchema, { state: [State.APPROVED, State.UNSPECIFIED] });
    assert.deepEqual(fields(requestProblems(SearchUsersRequestSchema, request)), ["state[1]"]);
  });
});
