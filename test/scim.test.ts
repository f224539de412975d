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
  /** A Connect (JSON) call, with `token` or none. */
  const rpc = async (path: string, body: unknown, token = "") => {
    const res = await fetch(`${server.url}/roster.v1.${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: a JSON answer read field by field.
    return { status: res.status, body: (await res.json()) as any };
  };
  const login = (userIdOrEmail: string, password: string) =>
    rpc("UserAccess/Authenticate", { userIdOrEmail, password });
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
    assert.deepEqual(await ids('userName ne "ann-lee" and userName ne "admin"'), ["bob-stone", "cy-a-b"]);
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

  it("leaves the built-in system user out of lists, searches and counts", async () => {
    const all = await scim("GET", "/Users?count=200");
    const listed = (all.body.Resources as { id: string }[]).map((r) => r.id);
    assert.ok(listed.includes("admin"));
    assert.ok(!listed.includes("system"), listed.join(", "));
    assert.equal(all.body.totalResults, listed.length);
    assert.deepEqual(await ids('userName eq "system"'), []);
    const searched = await scim("POST", "/Users/.search", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
      filter: 'userName sw "sys"',
    });
    assert.equal(searched.body.totalResults, 0);
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

  it("sets a password with PUT or PATCH as an admin does: policy checked, login tokens revoked", async () => {
    const created = await scim("POST", "/Users", {
      schemas: [core],
      userName: "pat-pw",
      emails: [{ value: "pat@example.com", primary: true }],
      password: "first long passphrase",
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const first = await login("pat-pw", "first long passphrase");
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await rpc("UserRegistry/GetCurrent", {}, first.body.token)).status, 200);

    const patched = await scim("PATCH", "/Users/pat-pw", {
      schemas: [patchOp],
      Operations: [{ op: "replace", path: "password", value: "second long passphrase" }],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.password, undefined);
    assert.equal((await login("pat-pw", "first long passphrase")).status, 401);
    assert.equal((await rpc("UserRegistry/GetCurrent", {}, first.body.token)).status, 401);
    assert.equal((await login("pat-pw", "second long passphrase")).status, 200);

    const put = await scim("PUT", "/Users/pat-pw", {
      schemas: [core],
      userName: "pat-pw",
      displayName: "Pat",
      emails: [{ value: "pat@example.com", primary: true }],
      password: "third long passphrase",
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await login("pat-pw", "third long passphrase")).status, 200);
    assert.equal((await rpcUser("pat-pw")).body.user.requirePasswordUpdate ?? false, false);

    for (const password of ["short", "pat@example.com"]) {
      const weak = await scim("PATCH", "/Users/pat-pw", {
        schemas: [patchOp],
        Operations: [
          { op: "replace", path: "displayName", value: "Not applied" },
          { op: "replace", path: "password", value: password },
        ],
      });
      assert.equal(weak.status, 400, JSON.stringify(weak.body));
      assert.equal(weak.body.scimType, "invalidValue");
    }
    assert.equal((await rpcUser("pat-pw")).body.user.name, "Pat");
    assert.equal((await login("pat-pw", "third long passphrase")).status, 200);
  });

  it("keeps the only email as Roster's primary address when its primary flag is removed", async () => {
    const res = await scim("PATCH", "/Users/bob-stone", {
      schemas: [patchOp],
      Operations: [
        { op: "replace", path: "emails", value: [{ value: "bob@example.org", type: "home", primary: false }] },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.emails, [{ value: "bob@example.org", type: "home", primary: false }]);
    assert.equal((await rpcUser("bob-stone")).body.user.primaryEmailAddress, "bob@example.org");
    assert.deepEqual((await scim("GET", "/Users/bob-stone")).body.emails, res.body.emails);
    assert.deepEqual(await ids('emails.value eq "bob@example.org"'), ["bob-stone"]);
  });

  it("takes the tokens of a REQUESTED user it deactivates, for good", async () => {
    const made = await rpc(
      "UserRegistry/Create",
      {
        user: { userId: "req-user", primaryEmailAddress: "req@example.com", state: "STATE_REQUESTED" },
        password: "a requested passphrase",
      },
      server.adminKey,
    );
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const { token } = (await login("req-user", "a requested passphrase")).body;
    assert.equal((await rpc("UserRegistry/GetCurrent", {}, token)).status, 200);
    const off = await scim("PATCH", "/Users/req-user", {
      schemas: [patchOp],
      Operations: [{ op: "replace", path: "active", value: false }],
    });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const on = await scim("PATCH", "/Users/req-user", {
      schemas: [patchOp],
      Operations: [{ op: "replace", path: "active", value: true }],
    });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.equal((await rpc("UserRegistry/GetCurrent", {}, token)).status, 401);
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
