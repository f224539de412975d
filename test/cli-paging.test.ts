import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

const count = 23;
const ids = Array.from({ length: count }, (_, i) => `page-${String(i).padStart(2, "0")}`);

describe("roster users list and search: pages", () => {
  let server: TestServer;
  const cli = (args: string[]) => roster(args, { server });
  const userIds = (res: { json(): { user_id: string }[] }) => res.json().map((u) => u.user_id);

  before(async () => {
    server = await startServer();
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    try {
      for (const id of ids) {
        await users.call("Create", { user: { user_id: id, primary_email_address: `${id}@example.com`, name: id } });
      }
    } finally {
      users.close();
    }
  });
  after(async () => {
    await server.stop();
  });

  it("prints one page and a hint on stderr with the next page number and token", async () => {
    const res = await cli(["users", "search", "--id-contains", "page-", "--limit", "10"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(userIds(res), ids.slice(0, 10));
    assert.match(
      res.stderr,
      /^10 of 23 users shown; for the next page use --page 2 or --page-token \S+ \(--all-pages for every page\)\n$/,
    );
  });

  it("gives the page after the one asked for with --page", async () => {
    const res = await cli(["users", "search", "--id-contains", "page-", "--limit", "10", "--page", "2"]);
    assert.deepEqual(userIds(res), ids.slice(10, 20));
    assert.match(res.stderr, /use --page 3 /);
  });

  it("follows the hint's page token to the next page", async () => {
    const first = await cli(["users", "search", "--id-contains", "page-", "--limit", "10"]);
    const token = /--page-token (\S+)/.exec(first.stderr)?.[1] as string;
    const second = await cli(["users", "search", "--id-contains", "page-", "--limit", "10", "--page-token", token]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(userIds(second), ids.slice(10, 20));
    assert.doesNotMatch(second.stderr, /--page \d/, "a page number is unknown after a token");
    assert.match(second.stderr, /--page-token \S+/);
  });

  it("prints no hint on the last page", async () => {
    const res = await cli(["users", "search", "--id-contains", "page-", "--limit", "10", "--page", "3"]);
    assert.deepEqual(userIds(res), ids.slice(20));
    assert.equal(res.stderr, "");
  });

  it("prints every page with --all-pages as one JSON array, each user once", async () => {
    const res = await cli(["users", "search", "--id-contains", "page-", "--limit", "4", "--all-pages", "--name"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(userIds(res), ids);
    assert.deepEqual(
      res.json().map((u: { name: string }) => u.name),
      ids,
      "the select flags apply to every page",
    );
    assert.equal(res.stderr, "", "no hint, and no progress bar without a terminal");
  });

  it("starts --all-pages at --page", async () => {
    const res = await cli(["users", "search", "--id-contains", "page-", "--limit", "5", "--page", "3", "--all-pages"]);
    assert.deepEqual(userIds(res), ids.slice(10));
  });

  it("prints every page as one YAML sequence and one table", async () => {
    const args = ["users", "search", "--id-contains", "page-", "--limit", "6", "--all-pages"];
    const yaml = await cli([...args, "-o", "yaml"]);
    assert.deepEqual(
      YAML.parse(yaml.stdout).map((u: { user_id: string }) => u.user_id),
      ids,
    );
    const table = await cli([...args, "-o", "table"]);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0] as string, /^USER_ID +CREATED_AT +UPDATED_AT$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(" ")[0]),
      ids,
    );
  });

  it("lists with the same pages as search", async () => {
    // Besides the users made here, the server has its own (admin, and any it creates for itself).
    const everyone = userIds(await cli(["users", "list", "--all-pages"]));
    assert.ok(everyone.length > count);
    const res = await cli(["users", "list", "--limit", "5", "--page", "2"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(userIds(res), everyone.slice(5, 10));
    assert.match(res.stderr, new RegExp(`^5 of ${everyone.length} users shown; for the next page use --page 3 `));
  });
});
