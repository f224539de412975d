import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { roster } from "./support/cli.js";
import { grpcClient } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { logLines, startServer, type TestServer } from "./support/server.js";

/** A port nothing listens on: what a CLI pointed at it sends goes nowhere. */
const closedServer = "http://127.0.0.1:9";

describe("roster users", () => {
  let server: TestServer;
  let cli: (args: string[], options?: Parameters<typeof roster>[1]) => ReturnType<typeof roster>;

  before(async () => {
    server = await startServer();
    cli = (args, options) => roster(args, { server, ...options });
  });
  after(async () => {
    await server.stop();
  });

  /** The calls of `method` in the server's log so far. */
  function rpcLogLines(method: string): number {
    return server
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"msg":"rpc"') && l.includes(`"method":"roster.v1.UserRegistry/${method}"`)).length;
  }

  /**
   * How many calls of `method` the server has logged, once every earlier
   * call is logged: a barrier call is made, and the server logs in order.
   */
  async function loggedCalls(method: string): Promise<number> {
    const gets = rpcLogLines("GetCurrent");
    await cli(["users", "current"]);
    await logLines(server, () => rpcLogLines("GetCurrent") > gets);
    return rpcLogLines(method);
  }

  describe("create", () => {
    it("creates a user from typed flags with the password read from --password-stdin", async () => {
      const res = await cli(
        [
          "users",
          "create",
          "stdin-user",
          "--name",
          "Stdin User",
          "--primary-email-address",
          "stdin@example.com",
          "--state",
          "requested",
          "--attributes",
          "team=blue",
          "--attributes",
          "floor=3",
          "--password-stdin",
        ],
        { input: "correct horse battery\n" },
      );
      assert.equal(res.code, 0, res.stderr);
      const user = res.json();
      assert.equal(user.user_id, "stdin-user");
      assert.equal(user.name, "Stdin User");
      assert.equal(user.state, "STATE_REQUESTED");
      assert.deepEqual(user.attributes, { team: "blue", floor: "3" });
      assert.ok(user.password_updated_at, "a password was set");

      // The password is the line without its newline: approve the user and log in with it.
      await cli(["users", "update", "stdin-user", "--state", "APPROVED"]);
      const access = grpcClient(server, "roster.v1.UserAccess");
      try {
        const login = await access.call("Authenticate", {
          user_id_or_email: "stdin-user",
          password: "correct horse battery",
        });
        assert.match(login.token, /^rst_lt_/);
      } finally {
        access.close();
      }
    });

    it("creates a user without a password when stdin is not a terminal, and says so", async () => {
      const res = await cli(["users", "create", "no-password", "--primary-email-address", "nopw@example.com"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json().password_updated_at, undefined);
      assert.match(res.stderr, /no password given .*--password-stdin/);
    });

    it("refuses an id that is taken with ALREADY_EXISTS and exit code 5", async () => {
      const res = await cli(["users", "create", "stdin-user", "--primary-email-address", "other@example.com"]);
      assert.equal(res.code, 5);
      assert.match(res.stderr, /^error: ALREADY_EXISTS: user id stdin-user is taken.*\(reason USER_ID_TAKEN\)\n$/);
      assert.equal(res.stdout, "");
    });

    it("reports the server's field violations with INVALID_ARGUMENT and exit code 3", async () => {
      const res = await cli(["users", "create", "bad-email", "--primary-email-address", "not-an-email"]);
      assert.equal(res.code, 3);
      assert.match(res.stderr, /^error: INVALID_ARGUMENT: .*user\.primary_email_address: must be an email address/);
    });
  });

  describe("get, current and batch get", () => {
    before(async () => {
      for (const [id, name] of [
        ["get-a", "Get A"],
        ["get-b", "Get B"],
      ]) {
        const res = await cli(["users", "create", id, "--name", name, "--primary-email-address", `${id}@example.com`]);
        assert.equal(res.code, 0, res.stderr);
      }
    });

    it("asks only for the id without select flags; the server adds the timestamps", async () => {
      const res = await cli(["users", "get", "get-a"]);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(Object.keys(res.json()).sort(), ["created_at", "updated_at", "user_id"]);
    });

    it("returns the fields of the select flags, including empty and false ones", async () => {
      const res = await cli(["users", "get", "get-a", "--name", "--description", "--admin", "--state"]);
      assert.equal(res.code, 0, res.stderr);
      const user = res.json();
      assert.equal(user.name, "Get A");
      assert.equal(user.description, "", "selected and empty is shown as empty");
      assert.equal(user.admin, false);
      assert.equal(user.state, "STATE_APPROVED");
      assert.equal(user.primary_email_address, undefined, "not selected");
    });

    it("takes paths with --field-mask, with dashes or underscores", async () => {
      const res = await cli(["users", "get", "get-a", "--field-mask", "primary-email-address,name"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json().primary_email_address, "get-a@example.com");
      assert.equal(res.json().name, "Get A");
    });

    it("returns every readable field with --all", async () => {
      const user = (await cli(["users", "get", "get-a", "--all"])).json();
      assert.equal(user.primary_email_address, "get-a@example.com");
      assert.equal(user.state, "STATE_APPROVED");
      assert.ok(user.etag);
    });

    it("refuses --all together with select flags", async () => {
      const res = await cli(["users", "get", "get-a", "--all", "--name"]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /--all selects every field/);
    });

    it("gets several users with one BatchGet call, in the order asked for", async () => {
      const res = await cli(["users", "get", "get-b", "get-a", "--name"]);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(
        res.json().map((u: { user_id: string; name: string }) => [u.user_id, u.name]),
        [
          ["get-b", "Get B"],
          ["get-a", "Get A"],
        ],
      );
      assert.ok((await loggedCalls("BatchGet")) >= 1);
    });

    it("prints the users found and exits 4 naming the ids that do not exist", async () => {
      const res = await cli(["users", "get", "get-a", "nobody-here", "get-b"]);
      assert.equal(res.code, 4);
      assert.deepEqual(
        res.json().map((u: { user_id: string }) => u.user_id),
        ["get-a", "get-b"],
      );
      assert.equal(res.stderr, "error: not found: nobody-here\n");
    });

    it("exits 4 with NOT_FOUND for one user that does not exist", async () => {
      const res = await cli(["users", "get", "nobody-here"]);
      assert.equal(res.code, 4);
      assert.equal(res.stderr, "error: NOT_FOUND: user nobody-here not found (reason USER_NOT_FOUND)\n");
    });

    it("shows the caller with users current", async () => {
      const res = await cli(["users", "current", "--admin", "--name"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json().user_id, "admin");
      assert.equal(res.json().admin, true);
    });
  });

  describe("list and search", () => {
    before(async () => {
      const rows = [
        ["find-one", "Finder One", "requested", "false"],
        ["find-two", "Finder Two", "approved", "true"],
        ["find-three", "Third", "flagged", "false"],
      ];
      for (const [id, name, state, admin] of rows as [string, string, string, string][]) {
        const res = await cli([
          "users",
          "create",
          id,
          "--name",
          name,
          "--primary-email-address",
          `${id}@find.example.com`,
          "--state",
          state,
          "--admin",
          admin,
          "--attributes",
          `group=${id.endsWith("e") ? "odd" : "even"}`,
        ]);
        assert.equal(res.code, 0, res.stderr);
      }
    });

    it("lists users with the fields of --name --state --admin", async () => {
      const res = await cli(["users", "list", "--name", "--state", "--admin"]);
      assert.equal(res.code, 0, res.stderr);
      const two = res.json().find((u: { user_id: string }) => u.user_id === "find-two");
      assert.deepEqual(
        { name: two.name, state: two.state, admin: two.admin },
        { name: "Finder Two", state: "STATE_APPROVED", admin: true },
      );
      assert.equal(two.primary_email_address, undefined);
    });

    it("orders the list with --order", async () => {
      const res = await cli(["users", "list", "--order=-user_id", "--limit", "2"]);
      const ids = res.json().map((u: { user_id: string }) => u.user_id);
      assert.deepEqual(ids, [...ids].sort().reverse());
    });

    it("searches by id with --id-contains and returns the --name field", async () => {
      const res = await cli(["users", "search", "--id-contains", "find", "--name"]);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(
        res.json().map((u: { user_id: string; name: string }) => `${u.user_id}:${u.name}`),
        ["find-one:Finder One", "find-three:Third", "find-two:Finder Two"],
      );
    });

    it("takes --state as a filter, with or without the STATE_ prefix, repeated or comma-separated", async () => {
      for (const args of [
        ["--state", "REQUESTED", "--state", "STATE_FLAGGED"],
        ["--state", "requested,flagged"],
      ]) {
        const res = await cli(["users", "search", "--id-contains", "find", ...args]);
        assert.equal(res.code, 0, res.stderr);
        assert.deepEqual(
          res.json().map((u: { user_id: string }) => u.user_id),
          ["find-one", "find-three"],
        );
      }
    });

    it("returns the state on search with --select-state, since --state filters there", async () => {
      const res = await cli(["users", "search", "--id-contains", "find-t", "--select-state", "--select-admin"]);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(
        res.json().map((u: { user_id: string; state: string; admin: boolean }) => [u.user_id, u.state, u.admin]),
        [
          ["find-three", "STATE_FLAGGED", false],
          ["find-two", "STATE_APPROVED", true],
        ],
      );
    });

    it("filters with --admin false, --name-contains and --attributes-contain", async () => {
      const nonAdmins = await cli(["users", "search", "--id-contains", "find", "--admin", "false"]);
      assert.deepEqual(
        nonAdmins.json().map((u: { user_id: string }) => u.user_id),
        ["find-one", "find-three"],
      );
      const byName = await cli(["users", "search", "--name-contains", "finder t"]);
      assert.deepEqual(
        byName.json().map((u: { user_id: string }) => u.user_id),
        ["find-two"],
      );
      const byAttribute = await cli(["users", "search", "--attributes-contain", "group=even"]);
      assert.deepEqual(
        byAttribute.json().map((u: { user_id: string }) => u.user_id),
        ["find-two"],
      );
    });

    it("prints an empty JSON array when nothing matches, without a hint", async () => {
      const res = await cli(["users", "search", "--query", "matches-nothing-at-all"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "[]\n");
      assert.equal(res.stderr, "");
    });
  });

  describe("update", () => {
    before(async () => {
      const res = await cli([
        "users",
        "create",
        "upd-user",
        "--name",
        "Before",
        "--description",
        "keep me",
        "--primary-email-address",
        "upd@example.com",
        "--attributes",
        "a=1",
      ]);
      assert.equal(res.code, 0, res.stderr);
    });

    it("changes exactly the fields given: enum without prefix, bool, timestamp, map", async () => {
      const res = await cli([
        "users",
        "update",
        "upd-user",
        "--state",
        "suspended",
        "--state-description",
        "too many emails",
        "--admin",
        "true",
        "--primary-email-address-validated-at",
        "2024-05-01T12:00:00Z",
        "--attributes",
        "b=2",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const updated = res.json();
      assert.equal(updated.state, "STATE_SUSPENDED");
      assert.equal(updated.admin, true);
      assert.equal(updated.primary_email_address_validated_at, "2024-05-01T12:00:00Z");
      assert.deepEqual(updated.attributes, { b: "2" }, "a map flag replaces the map");

      const all = (await cli(["users", "get", "upd-user", "--all"])).json();
      assert.equal(all.name, "Before", "fields without flags are unchanged");
      assert.equal(all.description, "keep me");
      assert.equal(all.state_description, "too many emails");
    });

    it("is also called set, and prints false values it set", async () => {
      const res = await cli(["users", "set", "upd-user", "--admin=false", "--state", "STATE_APPROVED"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json().admin, false);
      assert.equal(res.json().state, "STATE_APPROVED");
    });

    it("clears fields named by --unset", async () => {
      const res = await cli(["users", "update", "upd-user", "--unset", "description,attributes"]);
      assert.equal(res.code, 0, res.stderr);
      const all = (await cli(["users", "get", "upd-user", "--description", "--attributes", "--name"])).json();
      assert.equal(all.description, "");
      assert.deepEqual(all.attributes, {});
      assert.equal(all.name, "Before");
    });

    it("says there are no fields to update, exits 2 and sends nothing", async () => {
      const offline = await roster(["users", "update", "upd-user"], { env: { ROSTER_SERVER: closedServer } });
      assert.equal(offline.code, 2, "a call would have failed with 7 (unavailable)");
      assert.match(offline.stderr, /^error: no fields to update/);

      const before = await loggedCalls("Update");
      const online = await cli(["users", "update", "upd-user"]);
      assert.equal(online.code, 2);
      assert.equal(await loggedCalls("Update"), before);
    });

    it("refuses to unset a read-only field, and a field that is also set", async () => {
      const readOnly = await cli(["users", "update", "upd-user", "--unset", "created-at"]);
      assert.equal(readOnly.code, 2);
      assert.match(readOnly.stderr, /--unset created_at: not a field that can be set/);
      const both = await cli(["users", "update", "upd-user", "--name", "x", "--unset", "name"]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /also set by --name/);
    });

    it("checks typed values before sending: enums, booleans, timestamps, maps", async () => {
      for (const [args, message] of [
        [["--state", "sleepy"], /--state must be one of REQUESTED, APPROVED, REJECTED, FLAGGED, SUSPENDED/],
        [["--primary-email-address-validated-at", "yesterday"], /must be a Timestamp \(RFC 3339/],
        [["--attributes", "novalue"], /--attributes takes key=value/],
        [["--require-password-update", "maybe"], /Unknown argument: maybe/],
      ] as [string[], RegExp][]) {
        const res = await roster(["users", "update", "upd-user", ...args], { env: { ROSTER_SERVER: closedServer } });
        assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
        assert.match(res.stderr, message);
      }
    });

    it("offers no set flags for read-only fields", async () => {
      const res = await cli(["users", "update", "upd-user", "--created-at", "2024-01-01T00:00:00Z"]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /Unknown argument/);
    });

    it("makes the change conditional with --etag: a stale etag fails with ABORTED, exit 5", async () => {
      const { etag } = (await cli(["users", "get", "upd-user", "--etag"])).json();
      assert.ok(etag);
      const first = await cli(["users", "update", "upd-user", "--name", "First", "--etag", etag]);
      assert.equal(first.code, 0, first.stderr);
      const stale = await cli(["users", "update", "upd-user", "--name", "Second", "--etag", etag]);
      assert.equal(stale.code, 5);
      assert.match(stale.stderr, /^error: ABORTED: .*\(reason ETAG_MISMATCH\)/);
    });
  });

  describe("delete, restore and purge", () => {
    before(async () => {
      for (const id of ["del-user", "purge-user"]) {
        const res = await cli(["users", "create", id, "--primary-email-address", `${id}@example.com`]);
        assert.equal(res.code, 0, res.stderr);
      }
    });

    it("soft-deletes a user: gone from get, listed with --deleted, until when it can be restored", async () => {
      const res = await cli(["users", "delete", "del-user"]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(Date.parse(res.json().restorable_until) > Date.now());
      assert.equal((await cli(["users", "get", "del-user"])).code, 4);
      const deleted = (await cli(["users", "list", "--deleted"])).json();
      assert.ok(deleted.some((u: { user_id: string }) => u.user_id === "del-user"));
    });

    it("keeps the id of a deleted user reserved", async () => {
      const res = await cli(["users", "create", "del-user", "--primary-email-address", "again@example.com"]);
      assert.equal(res.code, 5);
      assert.match(res.stderr, /ALREADY_EXISTS/);
    });

    it("restores a deleted user", async () => {
      const res = await cli(["users", "restore", "del-user"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json().user_id, "del-user");
      assert.equal((await cli(["users", "get", "del-user"])).code, 0);
    });

    it("refuses to purge without --force when it cannot ask on a terminal, and keeps the user", async () => {
      const res = await cli(["users", "purge", "purge-user"]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /needs confirmation on a terminal; pass --force/);
      assert.equal((await cli(["users", "get", "purge-user"])).code, 0);
    });

    it("purges with --force, prints nothing, and frees the id", async () => {
      const res = await cli(["users", "purge", "purge-user", "--force"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "");
      assert.equal((await cli(["users", "get", "purge-user"])).code, 4);
      const again = await cli(["users", "create", "purge-user", "--primary-email-address", "purge-user@example.com"]);
      assert.equal(again.code, 0, again.stderr);
    });
  });

  describe("output formats", () => {
    before(async () => {
      const res = await cli([
        "users",
        "create",
        "out-user",
        "--name",
        "Ünïcode 名前",
        "--primary-email-address",
        "out@example.com",
        "--attributes",
        "k=v",
      ]);
      assert.equal(res.code, 0, res.stderr);
    });

    it("prints JSON with proto field names by default", async () => {
      const res = await cli(["users", "get", "out-user", "--primary-email-address"]);
      assert.match(res.stdout, /"user_id": "out-user"/);
      assert.match(res.stdout, /"primary_email_address": "out@example.com"/);
      assert.match(res.stdout, /"created_at": "\d{4}-\d\d-\d\dT/);
    });

    it("prints YAML with --output yaml that reads back as the JSON output", async () => {
      const args = ["users", "get", "out-user", "--name", "--attributes", "--admin"];
      const json = (await cli(args)).json();
      const yaml = await cli([...args, "--output", "yaml"]);
      assert.equal(yaml.code, 0, yaml.stderr);
      assert.deepEqual(YAML.parse(yaml.stdout), json);
    });

    it("prints a list as a YAML sequence", async () => {
      const res = await cli(["users", "search", "--id-contains", "out-user", "--name", "-o", "yaml"]);
      assert.deepEqual(
        YAML.parse(res.stdout).map((u: { user_id: string }) => u.user_id),
        ["out-user"],
      );
    });

    it("prints a list as a table with a column per field, aligned for wide characters", async () => {
      const res = await cli([
        "users",
        "list",
        "--name",
        "--attributes",
        "-o",
        "table",
        "--order=-name",
        "--limit",
        "3",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stdout.trimEnd().split("\n");
      assert.match(lines[0] as string, /^USER_ID +NAME +ATTRIBUTES +CREATED_AT +UPDATED_AT$/);
      const row = lines.find((l) => l.startsWith("out-user")) as string;
      assert.match(row, /Ünïcode 名前 +k=v +\d{4}-/);
      // "名前" takes four terminal columns: the next column starts where the header's does.
      const header = lines[0] as string;
      const attributesAt = header.indexOf("ATTRIBUTES");
      const before = row.slice(0, row.indexOf("k=v"));
      assert.equal(before.length + 2, attributesAt, "two wide characters count twice");
    });

    it("prints one user as a FIELD/VALUE table", async () => {
      const res = await cli(["users", "get", "out-user", "--name", "-o", "table"]);
      assert.match(res.stdout, /^FIELD +VALUE\nuser_id +out-user\nname +Ünïcode 名前\n/);
    });

    it("takes the output format from ROSTER_OUTPUT", async () => {
      const res = await cli(["users", "get", "out-user"], { env: { ROSTER_OUTPUT: "yaml" } });
      assert.match(res.stdout, /^user_id: out-user\n/);
    });
  });

  describe("protocols", () => {
    for (const protocol of ["connect", "grpc", "grpc-web"]) {
      it(`gets the same user over ${protocol}`, async () => {
        const res = await cli(["users", "get", "admin", "--name", "--admin", "--protocol", protocol]);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.json().name, "Administrator");
        assert.equal(res.json().admin, true);
      });

      it(`reports errors with their code and details over ${protocol}`, async () => {
        const res = await cli(["users", "get", "nobody-here", "--protocol", protocol]);
        assert.equal(res.code, 4);
        assert.equal(res.stderr, "error: NOT_FOUND: user nobody-here not found (reason USER_NOT_FOUND)\n");
      });
    }
  });

  describe("error exits", () => {
    it("exits 6 with UNAUTHENTICATED for a key the server does not know", async () => {
      const res = await cli(["users", "list"], { key: "rst_ak_notARealKeyAtAll0000000000000000000" });
      assert.equal(res.code, 6);
      assert.match(res.stderr, /^error: UNAUTHENTICATED: /);
      assert.equal(res.stdout, "");
    });

    it("exits 6 with UNAUTHENTICATED without a key", async () => {
      const res = await cli(["users", "current"], { key: null });
      assert.equal(res.code, 6);
      assert.match(res.stderr, /^error: UNAUTHENTICATED: /);
    });

    it("exits 6 with PERMISSION_DENIED for a key without the right", async () => {
      const limited = await createUser(server, { userId: "limited", rights: ["RIGHT_USER_INFO"] });
      const res = await cli(["users", "search", "--query", "x"], { key: limited.key });
      assert.equal(res.code, 6);
      assert.match(res.stderr, /^error: PERMISSION_DENIED: .*\(reason MISSING_RIGHT\)/);
    });

    it("exits 7 with UNAVAILABLE when no server listens", async () => {
      const res = await roster(["users", "list"], { env: { ROSTER_SERVER: closedServer } });
      assert.equal(res.code, 7);
      assert.match(res.stderr, /^error: UNAVAILABLE: .*ECONNREFUSED/);
    });

    it("exits 2 for an unknown flag, naming it", async () => {
      const res = await cli(["users", "list", "--colour"]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /^error: Unknown argument: colour/);
    });

    it("exits 2 for an unknown command, suggesting the nearest", async () => {
      const res = await cli(["users", "lst"]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /Did you mean list\?/);
    });

    it("exits 2 for a missing argument", async () => {
      const res = await cli(["users", "get"]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /Not enough non-option arguments/);
    });
  });
});
