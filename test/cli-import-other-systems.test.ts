/**
 * `roster users import` reads other systems' exports (issue 11, item 9):
 * REANA's headerless user-export with its access tokens, CSVs with common
 * headers, and any columns through --column mappings.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

describe("roster users import from other systems", () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "roster-import-others-"));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const cli = (args: string[]) => roster(args, { server });
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  it("imports REANA's user-export, and each user's old access token keeps working with only its hash stored", async () => {
    const token = "c0fa47fa00ae4013a13fd7nQx";
    const csv = file(
      "myusers.csv",
      [
        `"aa37d63d-3186-45d5-aa40-5d221cb170bf","john.doe@example.org","${token}","","John Doe"`,
        `"6d0a83d3-a5fb-415e-bc90-e2abed807ffe","new.web.user@example.org","","",""`,
        "",
      ].join("\n"),
    );
    const res = await cli(["users", "import", "--file", csv, "--layout", "reana"]);
    assert.equal(res.code, 0, res.stderr);
    const users = grpcClient(server, "roster.v1.UserRegistry", token);
    const { user } = await users.call("GetCurrent", {});
    users.close();
    assert.equal(user.user_id, "aa37d63d-3186-45d5-aa40-5d221cb170bf");
    assert.equal(user.primary_email_address, "john.doe@example.org");
    assert.equal(user.name, "John Doe");
    const db = new MongoClient(server.mongodbUri);
    const stored = JSON.stringify(await db.db().collection("tokens").find({}).toArray());
    await db.close();
    assert.ok(!stored.includes(token), "only the token's hash is stored");
    const again = await cli(["users", "import", "--file", csv, "--layout", "reana"]);
    assert.equal(again.code, 0, again.stderr);
    const got = await cli(["users", "get", "new.web.user@example.org", "--output", "json"]);
    assert.match(got.stdout, /6d0a83d3-a5fb-415e-bc90-e2abed807ffe/);
  });

  it("recognises common headers (email, username, full_name) and maps others with --column", async () => {
    const common = file(
      "common.csv",
      "username,email,full_name,enabled\nmary-major,mary@example.org,Mary Major,true\n",
    );
    const res = await cli(["users", "import", "--file", common]);
    assert.equal(res.code, 0, res.stderr);
    const mapped = file("mapped.csv", "Login,Mail,Shoe size\nkim-kind,kim@example.org,44\n");
    const refused = await cli(["users", "import", "--file", mapped]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--column/);
    const ok = await cli([
      "users",
      "import",
      "--file",
      mapped,
      "--column",
      "Login=user_id",
      "--column",
      "Mail=primary_email_address",
      "--column",
      "Shoe size=-",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const headerless = file("headerless.csv", "lee-lane,lee@example.org\n");
    const positional = await cli([
      "users",
      "import",
      "--file",
      headerless,
      "--no-header",
      "--column",
      "1=user_id",
      "--column",
      "2=primary_email_address",
    ]);
    assert.equal(positional.code, 0, positional.stderr);
    for (const id of ["mary-major", "kim-kind", "lee-lane"]) {
      const got = await cli(["users", "get", id, "--output", "json"]);
      assert.equal(got.code, 0, `${id}: ${got.stderr}`);
    }
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    const { user } = await users.call("Get", { user_id: "mary-major", field_mask: { paths: ["name"] } });
    users.close();
    assert.equal(user.name, "Mary Major");
  });
  it("imports The Things Stack's users as ttn-lw-cli users list --all prints them (a JSON array)", async () => {
    const json = file(
      "ttn-users.json",
      JSON.stringify([
        {
          ids: { user_id: "new-user" },
          created_at: "2019-12-19T09:10:31.426Z",
          updated_at: "2019-12-19T09:10:40.527Z",
          name: "New User",
          contact_info: [{ contact_method: "CONTACT_METHOD_EMAIL", value: "new-user@thethings.example" }],
          primary_email_address: "new-user@thethings.example",
          password_updated_at: "2019-12-19T10:54:53.674Z",
          state: "STATE_REQUESTED",
          state_description: "waiting",
          admin: false,
          attributes: { team: "lora" },
          universal_rights: [],
        },
        {
          ids: { user_id: "ttn-admin" },
          created_at: "2019-12-18T14:54:12.723Z",
          updated_at: "2019-12-18T14:54:12.723Z",
          primary_email_address: "ttn-admin@thethings.example",
          state: "STATE_APPROVED",
          admin: true,
        },
      ]),
    );
    const dry = await cli(["users", "import", "--file", json, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /2 created.*dry run/);
    const res = await cli(["users", "import", "--file", json]);
    assert.equal(res.code, 0, res.stderr);
    const report = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      report.map((r: { row_number: string; user_id: string; outcome: string }) => [r.row_number, r.user_id, r.outcome]),
      [
        ["1", "new-user", "IMPORT_OUTCOME_CREATED"],
        ["2", "ttn-admin", "IMPORT_OUTCOME_CREATED"],
      ],
    );
    const got = await cli(["users", "get", "new-user", "--all", "--output", "json"]);
    const user = got.json();
    assert.equal(user.name, "New User");
    assert.equal(user.state, "STATE_REQUESTED");
    assert.equal(user.state_description, "waiting");
    assert.equal(user.created_at, "2019-12-19T09:10:31.426Z");
    assert.deepEqual(user.attributes, { team: "lora" });
    assert.equal((await cli(["users", "get", "ttn-admin", "--admin", "--output", "json"])).json().admin, true);
  });

  it("imports Keycloak's users endpoint and Wallaroo's /users/query answer; a user without an email is reported", async () => {
    const keycloak = {
      "5e9c9a2b-7a7f-454a-b8e7-91e3c2d86c9f": {
        access: { view: true, manage: true },
        createdTimestamp: 1669221287375,
        disableableCredentialTypes: [],
        email: "john.hansarick@wallaroo.example",
        emailVerified: true,
        enabled: true,
        firstName: "John",
        lastName: "Hansarick",
        id: "5e9c9a2b-7a7f-454a-b8e7-91e3c2d86c9f",
        notBefore: 0,
        requiredActions: [],
        username: "john.hansarick@wallaroo.example",
        attributes: { department: ["ml", "ops"] },
      },
      "941937b3-7dc8-4abe-8bb1-bd23c816421e": {
        createdTimestamp: 1669221214282,
        emailVerified: false,
        enabled: true,
        id: "941937b3-7dc8-4abe-8bb1-bd23c816421e",
        requiredActions: [],
        username: "admin",
      },
      "da7c2f4c-822e-49eb-93d7-a4b90af9b4ca": {
        createdTimestamp: 1669654086172,
        email: "kilvin.mitchell@wallaroo.example",
        emailVerified: false,
        enabled: false,
        id: "da7c2f4c-822e-49eb-93d7-a4b90af9b4ca",
        requiredActions: ["UPDATE_PASSWORD"],
        username: "kilvin.mitchell@wallaroo.example",
      },
    };
    const wallaroo = file("wallaroo-users.json", JSON.stringify({ users: keycloak }));
    const res = await cli(["users", "import", "--file", wallaroo]);
    assert.equal(res.code, 3, "a row without an email is invalid");
    const report = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      report.map((r: { outcome: string }) => r.outcome),
      ["IMPORT_OUTCOME_CREATED", "IMPORT_OUTCOME_INVALID", "IMPORT_OUTCOME_CREATED"],
    );
    assert.match(report[1].reason, /primary_email_address/);
    const john = (await cli(["users", "get", "john.hansarick@wallaroo.example", "--all", "--output", "json"])).json();
    assert.equal(john.user_id, "5e9c9a2b-7a7f-454a-b8e7-91e3c2d86c9f", "Wallaroo's Keycloak id names the user");
    assert.equal(john.name, "John Hansarick");
    assert.equal(john.state, "STATE_APPROVED");
    assert.equal(john.created_at, "2022-11-23T16:34:47.375Z");
    assert.ok(john.primary_email_address_validated_at, "a verified address stays verified");
    assert.deepEqual(john.attributes, { username: "john.hansarick@wallaroo.example", department: "ml,ops" });
    const kilvin = (
      await cli(["users", "get", "kilvin.mitchell@wallaroo.example", "--all", "--output", "json"])
    ).json();
    assert.equal(kilvin.state, "STATE_SUSPENDED", "a disabled Keycloak user is suspended");
    assert.equal(kilvin.require_password_update, true);
    assert.equal(kilvin.primary_email_address_validated_at, undefined);

    // Keycloak's own endpoint answers a plain array, here on stdin.
    const array = JSON.stringify([
      { id: "0b5f1b8e-0000-4000-8000-000000000001", username: "ann", email: "ann@keycloak.example", enabled: true },
    ]);
    const piped = await roster(["users", "import"], { server, input: array });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /0b5f1b8e-0000-4000-8000-000000000001.*IMPORT_OUTCOME_CREATED/);
  });
});
