/**
 * Users created with an email address alone get an id derived from it
 * (issue 11, item 2): the rule, concurrent creates, the API and the CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { derivedUserIds } from "../server/users/derived-user-id.js";
import { userIdProblem } from "../server/validation/user-validation.js";
import { roster } from "./support/cli.js";
import { type GrpcClient, grpcClient } from "./support/clients.js";
import { startServer, type TestServer } from "./support/server.js";

const firstIds = (email: string, n: number) => {
  const ids: string[] = [];
  for (const id of derivedUserIds(email)) {
    ids.push(id);
    if (ids.length === n) break;
  }
  return ids;
};

describe("ids derived from email addresses", () => {
  it("takes the local part in lower-case letters and digits, then numbers it", () => {
    assert.deepEqual(firstIds("John.Doe+news@Example.org", 3), ["johndoe", "johndoe2", "johndoe3"]);
    assert.deepEqual(firstIds("x@example.org", 1), ["userx"]);
    assert.deepEqual(firstIds("Ünïcödé_9@example.org", 1), ["unicode9"]);
    for (const email of ["a@b", "-.-@b", `${"z".repeat(80)}@b`, "Ω@b", "0@b"]) {
      for (const id of firstIds(email, 12)) assert.equal(userIdProblem(id), undefined, `${email} gives ${id}`);
    }
  });

  describe("on a live server", () => {
    let server: TestServer;
    let users: GrpcClient;
    before(async () => {
      server = await startServer();
      users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    });
    after(async () => {
      users.close();
      await server.stop();
    });

    it("creates a user from an address alone and answers with the derived id", async () => {
      const { user } = await users.call("Create", { user: { primary_email_address: "Jane.Roe@example.org" } });
      assert.equal(user.user_id, "janeroe");
      assert.equal(user.primary_email_address, "Jane.Roe@example.org");
    });

    it("gives 20 concurrent creates whose addresses share a local part 20 distinct ids", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          users.call("Create", { user: { primary_email_address: `same.local@domain${i}.example` } }),
        ),
      );
      const ids = results.map((r) => r.user.user_id as string);
      assert.equal(new Set(ids).size, 20);
      assert.deepEqual(
        [...ids].sort(),
        ["samelocal", ...Array.from({ length: 19 }, (_, i) => `samelocal${i + 2}`)].sort(),
      );
    });

    it("creates by address from the CLI, as REANA's user-create --email does", async () => {
      const res = await roster(
        ["users", "create", "--primary-email-address", "john.doe@example.org", "--output", "json"],
        {
          server,
        },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /"johndoe"/);
    });
  });
});
