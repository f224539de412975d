import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

const core = "urn:ietf:params:scim:schemas:core:2.0:User";
const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const patchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** SCIM 2.0 under /scim/v2, driven with plain fetch as Entra ID and Okta drive it, checked against the gRPC API. */
describe("SCIM 2.0", () => {
  let server: TestServer;
  let key = "";
  let userKey = "";

  const scim = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/scim/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: a JSON answer read field by field.
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
  };
  /** The user as the Connect (gRPC) API shows it to the admin. */
  const rpcUser = async (userId: string) => {
    const res = await fetch(`${server.url}/roster.v1.UserRegistry/Get`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.adminKey}` },
      body: JSON.stringify({ userId }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: a JSON answer read field by field.
    return { status: res.status, body: (await res.json()) as any };
  };
  const ids = async (filter: string) => {
    const res = await scim("GET", `/Users?filter=${encodeURIComponent(filter)}&sortBy=userName`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.Resources as { id: string }[]).map((r) => r.id);
  };

  before(async () => {
    server = await startServer();
    const made = await roster(["users", "api-keys", "create", "admin", "--name", "idp", "--rights", "scim"], {
      server,
    });
    assert.equal(made.code, 0, made.stderr);
    key = made.json().key;
    const other = await roster(["users", "api-keys", "create", "admin", "--name", "ro", "--rights", "user_info"], {
      server,
    });
    userKey = other.json().key;
    for (const [userName, email, display, ext] of [
      ["ann-lee", "ann@example.com", "Ann Lee", "e-1"],
      ["bob-stone", "bob@example.org", "Bob Stone", "e-2"],
      ["cy-a-b", "cy.(a+b)@example.com", "Cy (a+b)*", "e.3*"],
    ]) {
      const res = await scim("POST", "/Users", {
        schemas: [core],
        userName,
        externalId: ext,
        displayName: display,
        emails: [{ value: email, primary: true, type: "work" }],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await server.stop();
  });

  it("answers 401 without a key and 403 for a key without RIGHT_SCIM, in SCIM's error format", async () => {
    const none = await fetch(`${server.url}/scim/v2/Users`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as { schemas: string[]; status: string };
    assert.deepEqual(body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
    assert.equal(body.status, "401");
    const saved = key;
    key = userKey;
    const denied = await scim("GET", "/Users");
    key = saved;
    assert.equal(denied.status, 403);
    assert.equal(denied.body.status, "403");
  });

  it("serves the discovery endpoints", async () => {
    const spc = await scim("GET", "/ServiceProviderConfig");
    assert.equal(spc.status, 200);
    assert.equal(spc.headers.get("content-type")?.startsWith("application/scim+json"), true);
    assert.equal(spc.body.patch.supported, true);
    assert.equal((await scim("GET", "/ResourceTypes")).body.Resources[0].name, "User");
    assert.equal((await scim("GET", `/Schemas/${core}`)).body.id, core);
  });

  it("filters with every operator, logic and grouping", async () => {
    assert.deepEqual(await ids('userName eq "ANN-LEE"'), ["ann-lee"]);
    assert.deepEqual(await ids('userName ne "ann-lee" and userName ne "admin" and userName ne "system"'), [
      "bob-stone",
      "cy-a-b",
    ]);
    assert.deepEqual(await ids('displayName co "stone"'), ["bob-stone"]);
    assert.deepEqual(await ids('emails.value sw "ann@"'), ["ann-lee"]);
    assert.deepEqual(await ids('emails ew ".org"'), ["bob-stone"]);
    assert.deepEqual(await ids("externalId pr"), ["ann-lee", "bob-stone", "cy-a-b"]);
    assert.deepEqual(await ids('externalId gt "e-1" and externalId lt "e.3*"'), ["bob-stone"]);
    assert.deepEqual(await ids('externalId ge "e-2" and externalId le "e.3*"'), ["bob-stone", "cy-a-b"]);
    assert.deepEqual(await ids('externalId eq "e-1" or externalId eq "e-2"'), ["ann-lee", "bob-stone"]);
    assert.deepEqual(await ids('externalId pr and not (externalId eq "e-1")'), ["bob-stone", "cy-a-b"]);
    assert.deepEqual(await ids('(externalId eq "e-1" or externalId eq "e-2") and displayName sw "bob"'), ["bob-stone"]);
    assert.deepEqual(await ids('emails[value co "example.org"]'), ["bob-stone"]);
    const created = await ids(`meta.created gt "2000-01-01T00:00:00Z" and externalId pr`);
    assert.equal(created.length, 3);
  });

  it("matches regular expression metacharacters literally", async () => {
    assert.deepEqual(await ids('displayName co "(a+b)*"'), ["cy-a-b"]);
    assert.deepEqual(await ids('externalId eq "e.3*"'), ["cy-a-b"]);
    assert.deepEqual(await ids('externalId eq "e.3"'), []);
    assert.deepEqual(await ids('displayName co ".*"'), []);
  });

  it("refuses an unsupported attribute as invalidFilter", async () => {
    const res = await scim("GET", `/Users?filter=${encodeURIComponent('nickName eq "x"')}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.scimType, "invalidFilter");
  });

  it("counts with count=0 and pages with startIndex", async () => {
    const res = await scim("GET", `/Users?count=0&filter=${encodeURIComponent("externalId pr")}`);
    assert.equal(res.body.totalResults, 3);
    assert.deepEqual(res.body.Resources, []);
    const page = await scim(
      "GET",
      `/Users?startIndex=2&count=1&sortBy=userName&filter=${encodeURIComponent("externalId pr")}`,
    );
    assert.deepEqual(
      page.body.Resources.map((r: { id: string }) => r.id),
      ["bob-stone"],
    );
  });

  it("answers a stale If-Match with 412 and changes nothing", async () => {
    const got = await scim("GET", "/Users/ann-lee");
    const etag = got.headers.get("etag") as string;
    assert.match(etag, /^W\/"/);
    const ok = await scim(
      "PATCH",
      "/Users/ann-lee",
      { schemas: [patchOp], Operations: [{ op: "replace", path: "displayName", value: "Ann L." }] },
      { "if-match": etag },
    );
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const stale = await scim(
      "PATCH",
      "/Users/ann-lee",
      { schemas: [patchOp], Operations: [{ op: "replace", path: "displayName", value: "Nope" }] },
      { "if-match": etag },
    );
    assert.equal(stale.status, 412);
    assert.equal((await rpcUser("ann-lee")).body.user.name, "Ann L.");
  });

  it("replays Entra ID's sequence: look up, create with an email userName, patch, deactivate, delete", async () => {
    assert.deepEqual(
      (await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "Dana.Fox@contoso.com"')}`)).body.Resources,
      [],
    );
    const created = await scim("POST", "/Users", {
      schemas: [core, enterprise],
      externalId: "0a1b",
      userName: "Dana.Fox@contoso.com",
      active: true,
      displayName: "Dana Fox",
      emails: [{ primary: true, type: "work", value: "Dana.Fox@contoso.com" }],
      name: { formatted: "Dana Fox", familyName: "Fox", givenName: "Dana" },
      [enterprise]: { department: "Sales", employeeNumber: "42" },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.id, "dana-fox");
    assert.equal(created.body.userName, "Dana.Fox@contoso.com");
    assert.deepEqual(await ids('userName eq "dana.fox@contoso.com"'), ["dana-fox"]);
    assert.deepEqual(await ids('externalId eq "0a1b"'), ["dana-fox"]);

    const patched = await scim("PATCH", "/Users/dana-fox", {
      schemas: [patchOp],
      Operations: [
        { op: "Replace", path: "displayName", value: "Dana F. Fox" },
        { op: "Replace", path: 'emails[type eq "work"].value', value: "dana@contoso.com" },
        { op: "Add", path: `${enterprise}:department`, value: "Marketing" },
      ],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    let user = (await rpcUser("dana-fox")).body.user;
    assert.equal(user.name, "Dana F. Fox");
    assert.equal(user.primaryEmailAddress, "dana@contoso.com");
    assert.equal(user.attributes.scim_department, "Marketing");
    assert.equal(user.attributes.scim_externalId, "0a1b");
    assert.equal(user.state, "STATE_APPROVED");

    const off = await scim("PATCH", "/Users/dana-fox", {
      schemas: [patchOp],
      Operations: [{ op: "Replace", path: "active", value: "False" }],
    });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.active, false);
    user = (await rpcUser("dana-fox")).body.user;
    assert.equal(user.state, "STATE_SUSPENDED");

    assert.equal((await scim("DELETE", "/Users/dana-fox")).status, 204);
    assert.equal((await rpcUser("dana-fox")).status, 404);
    assert.equal((await scim("GET", "/Users/dana-fox")).status, 404);
  });

  it("replays Okta's sequence: look up, create, patch without a path, deactivate", async () => {
    assert.equal(
      (await scim("GET", `/Users?filter=${encodeURIComponent('userName eq "eve-okta"')}&startIndex=1&count=100`)).body
        .totalResults,
      0,
    );
    const created = await scim("POST", "/Users", {
      schemas: [core],
      userName: "eve-okta",
      name: { givenName: "Eve", familyName: "Okta" },
      emails: [{ primary: true, value: "eve@okta.example", type: "work" }],
      active: true,
      password: "a long passphrase for eve",
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await rpcUser("eve-okta")).body.user.name, "Eve Okta");
    const renamed = await scim("PATCH", "/Users/eve-okta", {
      schemas: [patchOp],
      Operations: [{ op: "replace", value: { "name.givenName": "Evelyn", displayName: "Evelyn Okta" } }],
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.name.givenName, "Evelyn");
    assert.equal((await rpcUser("eve-okta")).body.user.name, "Evelyn Okta");
    const off = await scim("PATCH", "/Users/eve-okta", {
      schemas: [patchOp],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    assert.equal(off.status, 200);
    assert.equal((await rpcUser("eve-okta")).body.user.state, "STATE_SUSPENDED");
  });

  it("refuses a taken email with uniqueness and never lets SCIM suspend the last admin", async () => {
    const dup = await scim("POST", "/Users", {
      schemas: [core],
      userName: "ann-two",
      emails: [{ value: "ANN@example.com" }],
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.scimType, "uniqueness");
    const last = await scim("PATCH", "/Users/admin", {
      schemas: [patchOp],
      Operations: [{ op: "replace", path: "active", value: false }],
    });
    assert.equal(last.status, 400, JSON.stringify(last.body));
    assert.equal((await rpcUser("admin")).body.user.state, "STATE_APPROVED");
  });
});
