/**
 * The field model is the one place a user field is described: a field added
 * to user.proto with its annotations is readable, updatable (or not),
 * validated, stored and offered as CLI flags with no other code change.
 * Shown on a copy of the shipped descriptors that has grown two fields.
 * In process, no server.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  create,
  createFileRegistry,
  type DescMessage,
  fromBinary,
  type Message,
  setExtension,
} from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { setFlags } from "../cli/field-flags.js";
import { FieldBehavior, field_behavior } from "../gen/google/api/field_behavior_pb.js";
import {
  FieldReader,
  FieldRulesSchema,
  FieldWriter,
  field as fieldRules,
  TextFormat,
} from "../gen/roster/v1/field_rules_pb.js";
import { UserSchema } from "../gen/roster/v1/user_pb.js";
import { resolveReadMask, resolveUpdateMask } from "../server/requests/fieldmask.js";
import { requestProblems } from "../server/requests/request-rules.js";
import { descriptorSetPath } from "../server/runtime/paths.js";
import { documentValue, messageFromDocument } from "../server/store/message-documents.js";
import { fieldModel, maskRules } from "../shared/field-model.js";
import { userModel } from "../shared/user-model.js";

/** roster.v1.User from the shipped descriptor set, grown by a nickname and an output-only login count. */
function grownUser(): DescMessage {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));
  const file = set.file.find((f) => f.name === "roster/v1/user.proto");
  const user = file?.messageType.find((m) => m.name === "User");
  assert.ok(user);
  const nicknameOptions = create(FieldOptionsSchema);
  setExtension(
    nicknameOptions,
    fieldRules,
    create(FieldRulesSchema, {
      read: FieldReader.PUBLIC,
      update: FieldWriter.SELF,
      maxLength: 40,
      format: TextFormat.UNSPECIFIED,
      label: "Nickname",
      creatable: true,
    }),
  );
  user.field.push(
    create(FieldDescriptorProtoSchema, {
      name: "nickname",
      number: 100,
      type: FieldDescriptorProto_Type.STRING,
      label: FieldDescriptorProto_Label.OPTIONAL,
      jsonName: "nickname",
      options: nicknameOptions,
    }),
  );
  const countOptions = create(FieldOptionsSchema);
  setExtension(countOptions, field_behavior, [FieldBehavior.OUTPUT_ONLY]);
  setExtension(countOptions, fieldRules, create(FieldRulesSchema, { read: FieldReader.PRIVATE, label: "Logins" }));
  user.field.push(
    create(FieldDescriptorProtoSchema, {
      name: "login_count",
      number: 101,
      type: FieldDescriptorProto_Type.INT64,
      label: FieldDescriptorProto_Label.OPTIONAL,
      jsonName: "loginCount",
      options: countOptions,
    }),
  );
  const grown = createFileRegistry(set).getMessage("roster.v1.User");
  assert.ok(grown);
  return grown;
}

describe("the user field model", () => {
  it("reads who reads and writes each shipped field from user.proto", () => {
    const rules = maskRules(userModel);
    assert.deepEqual(rules.name, { read: "public", update: "self" });
    assert.deepEqual(rules.admin, { read: "private", update: "admin" });
    assert.deepEqual(rules.user_id, { read: "public", update: "never" });
    assert.deepEqual(rules.created_at, { read: "public", update: "never" });
    assert.deepEqual(rules.etag, { read: "public", update: "never" });
    assert.deepEqual(
      userModel.fields.map((f) => f.name),
      UserSchema.fields.map((f) => f.name),
      "every field, in proto order",
    );
    assert.ok(userModel.creatable.includes("admin") && !userModel.creatable.includes("created_at"));
    assert.equal(userModel.byName.get("name")?.maxLength, 200);
    assert.equal(userModel.byName.get("attributes")?.keyPattern?.test("$where"), false);
  });

  it("makes a field added to user.proto readable, updatable as annotated, validated, stored and a CLI flag", () => {
    const user = grownUser();
    const model = fieldModel(user);
    const rules = maskRules(model);

    // Readable: public, so without private access too; in an empty mask.
    assert.ok(resolveReadMask(rules, [], false).includes("nickname"));
    assert.ok(!resolveReadMask(rules, [], false).includes("login_count"));
    assert.ok(resolveReadMask(rules, [], true).includes("login_count"));
    // Updatable by the user as annotated; the output-only one by nobody.
    assert.deepEqual(resolveUpdateMask(rules, ["nickname"], false), ["nickname"]);
    assert.throws(() => resolveUpdateMask(rules, ["login_count"], true), /read-only|login_count/);
    assert.ok(model.creatable.includes("nickname") && !model.creatable.includes("login_count"));

    // Validated by every request's rules, from max_length.
    const long = create(user, { nickname: "n".repeat(41) } as never) as Message;
    assert.deepEqual(
      requestProblems(user, long).map((p) => p.field),
      ["nickname"],
    );
    const fine = create(user, { nickname: "Nick", userId: "ann" } as never) as Message;
    assert.deepEqual(requestProblems(user, fine), []);

    // Stored under its proto name and read back.
    const nickname = user.fields.find((f) => f.name === "nickname");
    const loginCount = user.fields.find((f) => f.name === "login_count");
    assert.ok(nickname && loginCount);
    assert.equal(documentValue(fine, nickname), "Nick");
    const read = messageFromDocument(model, { nickname: "Nick", login_count: 7 }) as unknown as Record<string, unknown>;
    assert.equal(read.nickname, "Nick");
    assert.equal(read.loginCount, 7n);

    // A CLI flag to set it, none for the output-only field.
    const flags = setFlags(user, new Set()).map((f) => f.name);
    assert.ok(flags.includes("nickname"), flags.join(" "));
    assert.ok(!flags.includes("login-count"));
  });
});
