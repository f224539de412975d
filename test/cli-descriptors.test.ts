import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
  DescriptorProtoSchema,
  EnumDescriptorProtoSchema,
  EnumValueDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  FileDescriptorSetSchema,
  file_google_protobuf_struct,
  SourceCodeInfo_LocationSchema,
} from "@bufbuild/protobuf/wkt";
import { descriptorSetPath, projectRoot } from "../server/runtime/paths.js";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

/** Help output with its line wrapping and column padding undone. */
const flat = (text: string) => text.replace(/\s+/g, " ");

/** The comment lines right above `declaration` in a .proto file, as one line. */
function protoComment(file: string, declaration: RegExp): string {
  const lines = readFileSync(join(projectRoot, "proto", file), "utf8").split("\n");
  const at = lines.findIndex((l) => declaration.test(l));
  assert.ok(at > 0, `${declaration} not found in ${file}`);
  const comment: string[] = [];
  for (let i = at - 1; i >= 0 && /^\s*\/\//.test(lines[i] as string); i--) {
    comment.unshift((lines[i] as string).replace(/^\s*\/\/\s?/, "").trim());
  }
  return comment.join(" ").trim();
}

/**
 * A copy of the shipped descriptor set in which roster/v1/user.proto has
 * grown: a commented string field, an output-only counter (annotated
 * google.api.field_behavior = OUTPUT_ONLY), a nested message, and a state.
 */
function grownDescriptorSet(): string {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));
  const file = set.file.find((f) => f.name === "roster/v1/user.proto");
  assert.ok(file);
  const userIndex = file.messageType.findIndex((m) => m.name === "User");
  const user = file.messageType[userIndex];
  assert.ok(user);
  const comment = (path: number[], text: string) =>
    file.sourceCodeInfo?.location.push(
      create(SourceCodeInfo_LocationSchema, { path, span: [0, 0, 0], leadingComments: ` ${text}\n` }),
    );
  const field = (name: string, number: number, type: FieldDescriptorProto_Type, typeName = "") =>
    create(FieldDescriptorProtoSchema, {
      name,
      number,
      type,
      typeName,
      jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
      label: FieldDescriptorProto_Label.OPTIONAL,
    });

  user.field.push(field("nickname", 100, FieldDescriptorProto_Type.STRING));
  comment([4, userIndex, 2, user.field.length - 1], "Short name used in greetings.");

  const loginCount = field("login_count", 101, FieldDescriptorProto_Type.INT64);
  loginCount.options = create(FieldOptionsSchema);
  loginCount.options.$unknown = [{ no: 1052, wireType: WireType.Varint, data: new Uint8Array([3]) }];
  user.field.push(loginCount);
  comment([4, userIndex, 2, user.field.length - 1], "How often the user logged in.");

  file.messageType.push(
    create(DescriptorProtoSchema, {
      name: "Profile",
      field: [field("theme", 1, FieldDescriptorProto_Type.STRING)],
    }),
  );
  comment([4, file.messageType.length - 1, 2, 0], "Colour scheme of the console.");
  user.field.push(field("profile", 102, FieldDescriptorProto_Type.MESSAGE, ".roster.v1.Profile"));
  comment([4, userIndex, 2, user.field.length - 1], "Console preferences.");

  // A JSON-valued field. user.proto now imports struct.proto, which must come before it in the set.
  const struct = set.file.find((f) => f.name === "google/protobuf/struct.proto") ?? file_google_protobuf_struct.proto;
  set.file = [struct, ...set.file.filter((f) => f !== struct)];
  file.dependency.push("google/protobuf/struct.proto");
  user.field.push(field("preferences", 103, FieldDescriptorProto_Type.MESSAGE, ".google.protobuf.Struct"));
  comment([4, userIndex, 2, user.field.length - 1], "Free-form preferences of the user.");

  // An enum whose name has an acronym: its values share the prefix MFA_MODE_, not M_F_A_MODE_.
  file.enumType.push(
    create(EnumDescriptorProtoSchema, {
      name: "MFAMode",
      value: ["MFA_MODE_UNSPECIFIED", "MFA_MODE_TOTP", "MFA_MODE_WEBAUTHN"].map((name, number) =>
        create(EnumValueDescriptorProtoSchema, { name, number }),
      ),
    }),
  );
  user.field.push(field("mfa_mode", 104, FieldDescriptorProto_Type.ENUM, ".roster.v1.MFAMode"));
  comment([4, userIndex, 2, user.field.length - 1], "Second factor the user signs in with.");

  const state = file.enumType.find((e) => e.name === "State");
  state?.value.push(create(EnumValueDescriptorProtoSchema, { name: "STATE_ARCHIVED", number: 6 }));

  // The copy must still be a consistent set of files.
  createFileRegistry(set);
  const path = join(mkdtempSync(join(tmpdir(), "roster-descriptors-")), "grown.binpb");
  writeFileSync(path, toBinary(FileDescriptorSetSchema, set));
  return path;
}

describe("roster flags and help come from the descriptors", () => {
  let server: TestServer;
  let grown: string;
  const withGrown = (args: string[]) => roster(args, { server, env: { ROSTER_CLI_DESCRIPTORS: grown } });

  before(async () => {
    server = await startServer();
    grown = grownDescriptorSet();
  });
  after(async () => {
    await server.stop();
  });

  it("has no select flag for a field the shipped descriptors lack", async () => {
    const help = await roster(["users", "get", "--help"]);
    assert.equal(help.code, 0);
    assert.doesNotMatch(help.stdout, /--nickname/);
  });

  it("offers a select flag per new field, nested fields with dots, with the field's comment", async () => {
    const help = flat((await withGrown(["users", "get", "--help"])).stdout);
    assert.match(help, /--nickname Short name used in greetings\. \[boolean\]/);
    assert.match(help, /--login-count How often the user logged in\. \[boolean\]/);
    assert.match(help, /--profile Console preferences\. \[boolean\]/);
    assert.match(help, /--profile\.theme Colour scheme of the console\. \[boolean\]/);
  });

  it("offers typed set flags for new writable fields on create and update, none for output-only ones", async () => {
    for (const command of ["create", "update"]) {
      const help = flat((await withGrown(["users", command, "--help"])).stdout);
      assert.match(help, /--nickname Short name used in greetings\. \[string\]/, command);
      assert.match(help, /--profile\.theme Colour scheme of the console\. \[string\]/, command);
      assert.doesNotMatch(help, /--login-count/, `${command}: login_count is OUTPUT_ONLY`);
    }
  });

  it("accepts a new enum value in the flags of that enum", async () => {
    const help = flat((await withGrown(["users", "search", "--help"])).stdout);
    assert.match(help, /--state .*Any of REQUESTED, APPROVED, REJECTED, FLAGGED, SUSPENDED, ARCHIVED;/);
  });

  it("puts a new set flag into the update mask: this server, which lacks the field, names it", async () => {
    const res = await withGrown(["users", "update", "admin", "--nickname", "Boss", "--profile.theme", "dark"]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(
      res.stderr,
      /^error: INVALID_ARGUMENT: unknown or forbidden field mask paths: nickname, profile\.theme/,
    );
  });

  it("takes a JSON value for a Struct field, and refuses text that is not a JSON object", async () => {
    const help = flat((await withGrown(["users", "update", "--help"])).stdout);
    assert.match(
      help,
      /--preferences Free-form preferences of the user\. \(a JSON object, such as \{"theme":"dark"\}\)/,
    );
    const sent = await withGrown(["users", "update", "admin", "--preferences", '{"theme":"dark","size":3}']);
    assert.equal(sent.code, 3, sent.stderr);
    assert.match(sent.stderr, /field mask paths: preferences/);
    const refused = await withGrown(["users", "update", "admin", "--preferences", "dark"]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--preferences must be a Struct/);
  });

  it("takes enum values without their shared prefix, also when the enum's name has an acronym", async () => {
    const help = flat((await withGrown(["users", "update", "--help"])).stdout);
    assert.match(help, /--mfa-mode Second factor the user signs in with\. One of TOTP, WEBAUTHN\./);
    const sent = await withGrown(["users", "update", "admin", "--mfa-mode", "webauthn"]);
    assert.equal(sent.code, 3, sent.stderr);
    assert.match(sent.stderr, /field mask paths: mfa_mode/);
  });

  it("puts a new select flag into the read mask", async () => {
    const res = await withGrown(["users", "get", "admin", "--nickname"]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /field mask paths: nickname/);
  });

  it("takes the help of a command from the comment of its RPC", async () => {
    for (const [command, rpc] of [
      ["get", "Get"],
      ["search", "Search"],
      ["purge", "Purge"],
    ]) {
      const help = flat((await roster(["users", command as string, "--help"])).stdout);
      assert.ok(
        help.includes(protoComment("roster/v1/user_registry.proto", new RegExp(`^\\s*rpc ${rpc}\\(`))),
        `users ${command} --help:\n${help}`,
      );
    }
  });

  it("takes the help of a flag from the comment of its field", async () => {
    const help = flat((await roster(["users", "update", "--help"])).stdout);
    for (const [flag, field] of [
      ["--primary-email-address", "primary_email_address"],
      ["--require-password-update", "require_password_update"],
    ]) {
      const comment = protoComment("roster/v1/user.proto", new RegExp(`^\\s*\\S+ ${field} = \\d+( \\[|;)`));
      assert.ok(help.includes(`${flag} ${comment}`), `${flag}: ${comment}`);
    }
  });

  it("takes the help of the users command from the comment of the UserRegistry service", async () => {
    const help = flat((await roster(["users", "--help"])).stdout);
    const comment = protoComment("roster/v1/user_registry.proto", /^service UserRegistry/);
    // The service comment has paragraphs; its first one is the summary.
    assert.ok(help.includes(comment.split(" Reads take")[0] as string), help);
  });

  it("has no flag names of User fields written in the CLI's code", () => {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath)));
    const user = registry.getMessage("roster.v1.User");
    assert.ok(user);
    const sources: [string, string][] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts")) sources.push([path, readFileSync(path, "utf8")]);
      }
    };
    walk(join(projectRoot, "cli"));
    assert.ok(sources.length > 5);
    for (const field of user.fields) {
      const flag = field.name.replaceAll("_", "-");
      const forbidden = [`--${flag}`, ...(flag.includes("-") ? [`"${flag}"`, `'${flag}'`, `\`${flag}\``] : [])];
      for (const [path, text] of sources) {
        for (const token of forbidden) {
          assert.ok(
            !new RegExp(`${token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w-])`).test(text),
            `${path} has ${token}`,
          );
        }
      }
    }
  });
});
