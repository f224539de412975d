import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { CreateUserRequestSchema } from "../gen/roster/v1/user_registry_pb.js";
import { type ConnectResponse, connectJson, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { logLines, startServer, type TestServer } from "./support/server.js";

/** The fields a Connect error's google.rpc.BadRequest names. */
function violatedFields(res: ConnectResponse): string[] {
  const detail = res.body?.details?.find((d: { type: string }) => d.type === "google.rpc.BadRequest");
  return (detail?.debug?.fieldViolations ?? []).map((v: { field: string }) => v.field);
}

function assertInvalid(res: ConnectResponse, fields: string[]): void {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.code, "invalid_argument", JSON.stringify(res.body));
  assert.deepEqual(violatedFields(res), fields, JSON.stringify(res.body));
}

describe("request validation", () => {
  let server: TestServer;
  let user: TestUser;
  const call = (procedure: string, body: unknown, key = server.adminKey) =>
    connectJson(server, procedure, body, { key });

  before(async () => {
    server = await startServer();
    user = await createUser(server, { userId: "checked" });
  });
  after(async () => {
    await server.stop();
  });

  describe("client mistakes are INVALID_ARGUMENT, never INTERNAL (finding 8)", () => {
    it("answers a right of 0, -1 or 99 with INVALID_ARGUMENT naming the field in CreateAPIKey, UpdateAPIKey and CreateTokenRequest", async () => {
      const created = await call("roster.v1.UserAccess/CreateAPIKey", { name: "k", rights: ["RIGHT_USER_INFO"] });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      for (const right of [0, -1, 99]) {
        assertInvalid(await call("roster.v1.UserAccess/CreateAPIKey", { name: "k", rights: [1, right] }), [
          "rights[1]",
        ]);
        assertInvalid(
          await call("roster.v1.UserAccess/UpdateAPIKey", {
            apiKey: { id: created.body.apiKey.id, rights: [right] },
            updateMask: "rights",
          }),
          ["api_key.rights[0]"],
        );
        assertInvalid(
          await call("roster.v1.UserAccess/CreateTokenRequest", { name: "n", reason: "r", rights: [right] }, user.key),
          ["rights[0]"],
        );
      }
    });

    it("answers an undecodable protobuf request with INVALID_ARGUMENT in every protocol, and logs and counts it", async () => {
      const garbage = new Uint8Array([0x0a, 0xff, 0xff]);
      const res = await fetch(`${server.url}/roster.v1.UserRegistry/Get`, {
        method: "POST",
        headers: { "content-type": "application/proto", authorization: `Bearer ${server.adminKey}` },
        body: garbage,
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");

      const client = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
      const viaGrpc = new Promise((resolve, reject) =>
        client.raw.makeUnaryRequest(
          "/roster.v1.UserRegistry/GetCurrent",
          () => Buffer.from(garbage),
          (b: Buffer) => b,
          {},
          (err: grpc.ServiceError | null, value?: Buffer) => (err ? reject(err) : resolve(value)),
        ),
      );
      await rejectsWith(viaGrpc, grpc.status.INVALID_ARGUMENT);
      client.close();

      const lines = await logLines(
        server,
        (l) => l.msg === "rpc" && l.method === "roster.v1.UserRegistry/Get" && l.code === "InvalidArgument",
      );
      assert.equal(lines.length, 1, "the refused call is logged");
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /roster_rpc_calls_total\{method="roster.v1.UserRegistry\/Get",code="InvalidArgument"\} 1/);
      assert.match(
        metrics,
        /roster_rpc_calls_total\{method="roster.v1.UserRegistry\/GetCurrent",code="InvalidArgument"\} 1/,
      );
    });
  });

  describe("enum values come from the descriptors (finding 9)", () => {
    it("refuses values an enum does not define instead of treating them as a default", async () => {
      const probe = await createUser(server, { userId: "enum-probe" });
      assertInvalid(await call("roster.v1.UserAccess/RevokeTokens", { userId: probe.userId, kind: 99 }), ["kind"]);
      assertInvalid(
        await call("roster.v1.UserAccess/CreateTemporaryPassword", { userId: probe.userId, clearTokens: 99 }),
        ["clear_tokens"],
      );
      assertInvalid(
        await call("roster.v1.UserRegistry/Merge", { oldUserId: probe.userId, newUserId: user.userId, apiKeys: 99 }),
        ["api_keys"],
      );
      // Nothing happened: the probe's key still works.
      assert.equal((await call("roster.v1.UserRegistry/GetCurrent", {}, probe.key)).status, 200);
    });

    it("refuses an unknown status filter instead of listing everything", async () => {
      assertInvalid(await call("roster.v1.InvitationRegistry/List", { status: 99 }), ["status"]);
      assertInvalid(await call("roster.v1.UserAccess/ListTokenRequests", { allUsers: true, status: 99 }), ["status"]);
      assertInvalid(await call("roster.v1.UserRegistry/Search", { state: [2, 0, 42] }), ["state[1]", "state[2]"]);
    });

    it("refuses unknown enum names and unknown fields in JSON instead of ignoring them", async () => {
      const unknownRight = await call("roster.v1.UserAccess/CreateAPIKey", { name: "k", rights: ["RIGHT_ADMN_ALL"] });
      assert.equal(unknownRight.status, 400, JSON.stringify(unknownRight.body));
      assert.match(unknownRight.body.message, /RIGHT_ADMN_ALL/);
      const typo = await call("roster.v1.UserAccess/CreateAPIKey", { userID: user.userId, name: "k" });
      assert.equal(typo.status, 400, JSON.stringify(typo.body));
      assert.match(typo.body.message, /userID/);
    });
  });

  describe("every string is bounded (finding 10)", () => {
    it("bounds Unsetup's reason like the state description it becomes, and the notes of token requests", async () => {
      const target = await createUser(server, { userId: "unset-me" });
      const long = "a".repeat(1_048_576);
      assertInvalid(await call("roster.v1.UserRegistry/Unsetup", { userId: target.userId, reason: long }), ["reason"]);
      assertInvalid(await call("roster.v1.UserRegistry/Unsetup", { userId: target.userId, reason: "a".repeat(1001) }), [
        "reason",
      ]);
      const ok = await call("roster.v1.UserRegistry/Unsetup", { userId: target.userId, reason: "a".repeat(1000) });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));

      const asked = await call(
        "roster.v1.UserAccess/CreateTokenRequest",
        { name: "n", reason: "r", rights: ["RIGHT_USER_INFO"] },
        user.key,
      );
      const id = asked.body.tokenRequest.id;
      assertInvalid(await call("roster.v1.UserAccess/GrantTokenRequest", { id, note: long }), ["note"]);
      assertInvalid(await call("roster.v1.UserAccess/DenyTokenRequest", { id, note: long }), ["note"]);
      const got = await call("roster.v1.UserAccess/GetTokenRequest", { id });
      assert.equal(got.body.tokenRequest.status, "TOKEN_REQUEST_STATUS_PENDING", "nothing was stored");
    });

    it("bounds strings without a limit of their own at 1,000 characters", async () => {
      assertInvalid(await call("roster.v1.UserRegistry/Delete", { userId: user.userId, etag: "e".repeat(1001) }), [
        "etag",
      ]);
      assertInvalid(await call("grpc.health.v1.Health/Check", { service: "s".repeat(1001) }), ["service"]);
    });
  });

  describe("map keys are plain own properties (finding 11)", () => {
    const protoKey = (value: unknown) => JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`);

    it("refuses an attribute keyed __proto__ over JSON and protobuf instead of dropping it", async () => {
      assertInvalid(
        await call("roster.v1.UserRegistry/Update", {
          user: { userId: user.userId, attributes: protoKey("p") },
          updateMask: "attributes",
        }),
        ["user.attributes.__proto__"],
      );
      const message = create(CreateUserRequestSchema, {
        user: { userId: "proto-key", primaryEmailAddress: "proto-key@example.com" },
      });
      (message.user as { attributes: Record<string, string> }).attributes = Object.fromEntries([["__proto__", "p"]]);
      const res = await fetch(`${server.url}/roster.v1.UserRegistry/Create`, {
        method: "POST",
        headers: { "content-type": "application/proto", authorization: `Bearer ${server.adminKey}` },
        body: toBinary(CreateUserRequestSchema, message),
      });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, "invalid_argument");
      assert.match(body.message, /user\.attributes\.__proto__/);
      assert.equal((await call("roster.v1.UserRegistry/Get", { userId: "proto-key" })).status, 404, "not created");
    });

    it("refuses a search for __proto__ attributes instead of returning every user", async () => {
      assertInvalid(await call("roster.v1.UserRegistry/Search", { attributesContain: protoKey("zzz") }), [
        "attributesContain.__proto__",
      ]);
      assertInvalid(await call("roster.v1.UserBulk/Import", { users: [{ user: { attributes: protoKey("x") } }] }), [
        "users[0].user.attributes.__proto__",
      ]);
    });

    it("refuses settings keyed __proto__, also inside values, and other inherited names such as constructor", async () => {
      assertInvalid(await call("roster.v1.UserSettings/Replace", { settings: protoKey(1) }), ["settings.__proto__"]);
      assertInvalid(await call("roster.v1.UserSettings/Set", { key: "theme", value: { nested: protoKey(1) } }), [
        "value.nested.__proto__",
      ]);
      assertInvalid(
        await call("roster.v1.UserRegistry/Update", {
          user: { userId: user.userId, attributes: { constructor: "x" } },
          updateMask: "attributes",
        }),
        ["user.attributes.constructor"],
      );
    });
  });

  describe("text is counted in code points and free of control characters (finding 14)", () => {
    it("counts attribute values in code points, as names are", async () => {
      const update = (value: string) =>
        call("roster.v1.UserRegistry/Update", {
          user: { userId: user.userId, attributes: { mood: value } },
          updateMask: "attributes",
        });
      const ok = await update("😀".repeat(600));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assertInvalid(await update("😀".repeat(1001)), ["user.attributes.mood"]);
      const name = await call("roster.v1.UserRegistry/Update", {
        user: { userId: user.userId, name: "😀".repeat(200) },
        updateMask: "name",
      });
      assert.equal(name.status, 200, JSON.stringify(name.body));
    });

    it("refuses NUL and other control characters, allowing tab and line breaks only in free text", async () => {
      const update = (user_: Record<string, unknown>, mask = Object.keys(user_).join(",")) =>
        call("roster.v1.UserRegistry/Update", { user: { userId: user.userId, ...user_ }, updateMask: mask });
      assertInvalid(await update({ name: "Ada\u0000Lovelace" }), ["user.name"]);
      assertInvalid(await update({ primaryEmailAddress: "ada\n@example.com" }), ["user.primary_email_address"]);
      assertInvalid(await update({ name: "Ada\u009bLovelace" }), ["user.name"]);
      assertInvalid(await update({ description: "first\u0000second" }), ["user.description"]);
      // A lone surrogate is not text at all: the decoder refuses it.
      const surrogate = await update({ name: "lone \ud800 surrogate" });
      assert.equal(surrogate.body.code, "invalid_argument", JSON.stringify(surrogate.body));
      const multiline = await update({ description: "first line\r\nsecond\tline" });
      assert.equal(multiline.status, 200, JSON.stringify(multiline.body));
      const got = await call("roster.v1.UserRegistry/Get", { userId: user.userId, fieldMask: "name,description" });
      assert.equal(got.body.user.description, "first line\r\nsecond\tline");
      assert.ok(!(got.body.user.name ?? "").includes("\u0000"), "no NUL was stored");
    });

    it("lets passwords hold any character", async () => {
      const res = await call("roster.v1.UserRegistry/Create", {
        user: { userId: "odd-password", primaryEmailAddress: "odd-password@example.com" },
        password: "tab\there and\u0001more",
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const login = await call("roster.v1.UserAccess/Authenticate", {
        userIdOrEmail: "odd-password",
        password: "tab\there and\u0001more",
      });
      assert.equal(login.status, 200, JSON.stringify(login.body));
    });
  });
});
