import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { file_roster_v1_events } from "../gen/roster/v1/events_pb.js";
import { file_roster_v1_invitation_registry } from "../gen/roster/v1/invitation_registry_pb.js";
import { file_roster_v1_self_service } from "../gen/roster/v1/self_service_pb.js";
import { file_roster_v1_user_access } from "../gen/roster/v1/user_access_pb.js";
import { file_roster_v1_user_registry } from "../gen/roster/v1/user_registry_pb.js";
import { file_roster_v1_user_settings } from "../gen/roster/v1/user_settings_pb.js";
import { createUser, type TestUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/** Every method the protos mark NO_SIDE_EFFECTS, as `roster.v1.UserRegistry/Get`. */
const readOnly = [
  file_roster_v1_user_registry,
  file_roster_v1_user_access,
  file_roster_v1_invitation_registry,
  file_roster_v1_user_settings,
  file_roster_v1_events,
  file_roster_v1_self_service,
].flatMap((file) =>
  file.services.flatMap((service) =>
    service.methods
      .filter((m) => m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS)
      .map((m) => ({ path: `${service.typeName}/${m.name}`, kind: m.methodKind })),
  ),
);

/**
 * Connect GET, as curl or a browser cache sends it: methods without side
 * effects answer GET with the request in the query string (the Connect
 * protocol's unary GET), credentials in the Authorization header as usual;
 * the others refuse it.
 */
describe("Connect GET for methods without side effects", () => {
  let server: TestServer;
  let member: TestUser;
  before(async () => {
    server = await startServer();
    member = await createUser(server, { userId: "getter" });
  });
  after(async () => {
    await server.stop();
  });

  /** GET /<procedure>?connect=v1&encoding=json&message=<json>. */
  async function get(procedure: string, message: unknown, key?: string, headers: Record<string, string> = {}) {
    const query = new URLSearchParams({ connect: "v1", encoding: "json", message: JSON.stringify(message) });
    const res = await fetch(`${server.url}/${procedure}?${query}`, {
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  it("marks the reads of every service, and only unary ones", () => {
    assert.deepEqual(
      readOnly.map((m) => m.path),
      [
        "roster.v1.UserRegistry/Get",
        "roster.v1.UserRegistry/GetCurrent",
        "roster.v1.UserRegistry/BatchGet",
        "roster.v1.UserRegistry/List",
        "roster.v1.UserRegistry/Search",
        "roster.v1.UserAccess/ListRights",
        "roster.v1.UserAccess/ListAPIKeys",
        "roster.v1.UserAccess/GetAPIKey",
        "roster.v1.UserAccess/ListTokenRequests",
        "roster.v1.UserAccess/GetTokenRequest",
        "roster.v1.InvitationRegistry/Get",
        "roster.v1.InvitationRegistry/List",
        "roster.v1.UserSettings/List",
        "roster.v1.UserSettings/Get",
        "roster.v1.Events/List",
        "roster.v1.SelfService/GetOptions",
      ],
    );
    assert.ok(readOnly.every((m) => m.kind === "unary"));
  });

  it("answers GET with the caller's credentials from the Authorization header", async () => {
    const user = await get("roster.v1.UserRegistry/Get", { userId: "getter", fieldMask: "name" }, member.key);
    assert.equal(user.status, 200, JSON.stringify(user.body));
    assert.equal(user.body.user.userId, "getter");
    assert.equal(user.body.user.name, "User getter");
    const rights = await get("roster.v1.UserAccess/ListRights", {}, member.key);
    assert.equal(rights.body.userId, "getter");
    const list = await get("roster.v1.UserRegistry/List", { limit: 1 }, server.adminKey);
    assert.equal(list.status, 200);
    assert.ok(Number(list.headers.get("x-total-count")) >= 2, "headers come back as for POST");
  });

  it("checks rights on GET as on POST", async () => {
    const anonymous = await get("roster.v1.UserRegistry/GetCurrent", {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, "unauthenticated");
    const forged = await get("roster.v1.UserRegistry/GetCurrent", {}, `rst_ak_${"A".repeat(38)}`);
    assert.equal(forged.status, 401);
    const notAdmin = await get("roster.v1.UserRegistry/List", {}, member.key);
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.code, "permission_denied");
    const options = await get("roster.v1.SelfService/GetOptions", {});
    assert.equal(options.status, 200, "public methods need no credentials");
    assert.equal(options.body.registrationMode, "invitation");
  });

  it("answers GET for every marked method (a request error at worst, never 'method not allowed')", async () => {
    for (const { path } of readOnly) {
      const res = await get(path, {}, server.adminKey);
      assert.notEqual(res.status, 405, path);
      assert.ok(res.status === 200 || typeof res.body?.code === "string", `${path}: ${res.status}`);
      assert.notEqual(res.body?.code, "unimplemented", path);
    }
  });

  it("refuses GET for methods with side effects and those that carry secrets", async () => {
    for (const path of [
      "roster.v1.UserRegistry/Update",
      "roster.v1.UserRegistry/Create",
      "roster.v1.UserAccess/Authenticate",
      "roster.v1.SelfService/CheckPassword",
      "roster.v1.SelfService/DescribeLink",
    ]) {
      const res = await get(path, {}, server.adminKey);
      assert.equal(res.status, 405, path);
    }
  });

  it("lets a browser on another origin send GET with an Authorization header (CORS preflight)", async () => {
    const preflight = await fetch(`${server.url}/roster.v1.UserRegistry/GetCurrent`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /GET/);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
    const res = await get("roster.v1.UserRegistry/GetCurrent", {}, member.key, { origin: "https://app.example.com" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });
});
