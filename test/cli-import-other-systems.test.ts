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
});
