import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { roster, rosterInTerminal } from "./support/cli.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/** User fields in proto order: the CSV's columns, then the record's password_hash. */
const userFields = [
  "user_id",
  "name",
  "description",
  "primary_email_address",
  "primary_email_address_validated_at",
  "attributes",
  "state",
  "state_description",
  "admin",
  "require_password_update",
  "password_updated_at",
  "created_at",
  "updated_at",
  "deleted_at",
  "etag",
  "created_by",
  "updated_by",
  "merged_into",
];

interface UserRecord {
  user: Record<string, unknown> & { user_id: string };
  password_hash?: string;
}

/** Users with every kind of field value a CSV can trip over: commas, quotes, line breaks, JSON in attributes. */
const seedRows: UserRecord[] = [
  {
    user: {
      user_id: "ada",
      name: 'Ada, "the first"\nLovelace',
      description: "Ünïcode ✓ and a trailing space ",
      primary_email_address: "ada@example.com",
      primary_email_address_validated_at: "2024-05-01T12:00:00.123Z",
      attributes: { team: "ops", json: '{"a":[1,2]}', empty: "" },
      state: "STATE_APPROVED",
      admin: true,
      created_at: "2020-01-02T03:04:05Z",
      updated_at: "2021-06-07T08:09:10.500Z",
    },
    password_hash: bcrypt.hashSync("bcrypt user password 1", 4),
  },
  {
    user: {
      user_id: "grace",
      name: "Grace Hopper",
      primary_email_address: "grace@example.com",
      state: "STATE_REQUESTED",
      require_password_update: true,
    },
  },
  {
    user: {
      user_id: "linus",
      name: "Linus",
      primary_email_address: "linus@example.com",
      state: "STATE_SUSPENDED",
      state_description: "paused, for now",
    },
  },
  {
    user: {
      user_id: "margaret",
      primary_email_address: "margaret@example.com",
      state: "STATE_FLAGGED",
      attributes: { floor: "3" },
    },
  },
];

describe("roster users export and import", () => {
  let source: TestServer;
  let csvTarget: TestServer;
  let ndjsonTarget: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "roster-bulk-"));
  const file = (name: string) => join(dir, name);

  before(async () => {
    [source, csvTarget, ndjsonTarget] = await Promise.all([startServer(), startServer(), startServer()]);
    // One user with an Argon2id hash made by the server itself.
    await createUser(source, { userId: "argon", password: "argon user password 2" });
  });
  after(async () => {
    await Promise.all([source.stop(), csvTarget.stop(), ndjsonTarget.stop()]);
  });

  /** Every user but the server's own admin, as exported with hashes (NDJSON), by id. */
  async function usersOf(server: TestServer): Promise<Map<string, UserRecord>> {
    const res = await roster(["users", "export", "--format", "ndjson", "--include-password-hashes"], { server });
    assert.equal(res.code, 0, res.stderr);
    const records = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as UserRecord);
    return new Map(records.filter((r) => r.user.user_id !== "admin").map((r) => [r.user.user_id, r]));
  }

  function assertSameUsers(actual: Map<string, UserRecord>, expected: Map<string, UserRecord>) {
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
    for (const [id, record] of expected) {
      // Field by field, timestamps and hashes included; only the etag is each database's own.
      const got = actual.get(id) as UserRecord;
      assert.deepEqual({ ...got, user: { ...got.user, etag: "" } }, { ...record, user: { ...record.user, etag: "" } });
    }
  }

  it("imports an NDJSON file with proto field names: every row created, a report line each, a summary", async () => {
    writeFileSync(file("seed.ndjson"), seedRows.map((r) => JSON.stringify(r)).join("\n"));
    const res = await roster(["users", "import", "--file", file("seed.ndjson")], { server: source });
    assert.equal(res.code, 0, res.stderr);
    const report = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      report.map((r) => [r.row_number, r.user_id, r.outcome]),
      seedRows.map((r, i) => [String(i + 1), r.user.user_id, "IMPORT_OUTCOME_CREATED"]),
    );
    assert.equal(res.stderr, "4 rows: 4 created, 0 updated, 0 unchanged, 0 skipped, 0 invalid, 0 failed\n");
    const ada = (await roster(["users", "get", "ada", "--all"], { server: source })).json();
    assert.equal(ada.name, 'Ada, "the first"\nLovelace');
    assert.equal(ada.created_at, "2020-01-02T03:04:05Z");
  });

  it("exports a CSV with one column per User field in proto order, then password_hash", async () => {
    const res = await roster(["users", "export", "--include-password-hashes", "--output", file("users.csv")], {
      server: source,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "");
    assert.equal(res.stderr, `exported 6 users to ${file("users.csv")}\n`);
    const text = readFileSync(file("users.csv"), "utf8");
    assert.equal(text.split("\n")[0], [...userFields, "password_hash"].join(","));
    assert.match(text, /"\{""team"":""ops"",""json"":""\{\\""a\\"":\[1,2\]\}"",""empty"":""""\}"/);
    assert.match(text, /,STATE_SUSPENDED,"paused, for now",/);
  });

  it("imports the CSV into a fresh server: the same users field by field, who log in with their passwords", async () => {
    const res = await roster(["users", "import", "--file", file("users.csv")], { server: csvTarget });
    assert.equal(res.code, 0, res.stderr);
    // The target's own admin is left as it is.
    assert.equal(res.stderr, "6 rows: 5 created, 0 updated, 0 unchanged, 1 skipped, 0 invalid, 0 failed\n");
    assertSameUsers(await usersOf(csvTarget), await usersOf(source));

    for (const [user, password] of [
      ["ada", "bcrypt user password 1"],
      ["argon", "argon user password 2"],
    ]) {
      const login = await roster(["login", user as string, "--password-stdin"], {
        server: csvTarget,
        key: null,
        input: `${password}\n`,
      });
      assert.equal(login.code, 0, `${user}: ${login.stderr}`);
    }
  });

  it("skips every row of a second import of the same file", async () => {
    const res = await roster(["users", "import", "--file", file("users.csv"), "--batch-size", "2"], {
      server: csvTarget,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, "6 rows: 0 created, 0 updated, 0 unchanged, 6 skipped, 0 invalid, 0 failed\n");
    const outcomes = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).outcome);
    assert.deepEqual(outcomes, Array(6).fill("IMPORT_OUTCOME_SKIPPED"));
  });

  it("round-trips NDJSON through a pipe: export to stdout, import from stdin", async () => {
    const exported = await roster(["users", "export", "--format", "ndjson", "--include-password-hashes"], {
      server: source,
    });
    assert.equal(exported.code, 0, exported.stderr);
    const res = await roster(["users", "import"], { server: ndjsonTarget, input: exported.stdout });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, "6 rows: 5 created, 0 updated, 0 unchanged, 1 skipped, 0 invalid, 0 failed\n");
    assertSameUsers(await usersOf(ndjsonTarget), await usersOf(source));
  });

  it("fails rows that differ with --on-conflict fail (exit 5), and brings them back with update", async () => {
    const exported = await roster(["users", "export", "--format", "ndjson", "--include-password-hashes"], {
      server: source,
    });
    assert.equal((await roster(["users", "update", "grace", "--name", "Changed"], { server: ndjsonTarget })).code, 0);
    const failing = await roster(["users", "import", "--on-conflict", "fail"], {
      server: ndjsonTarget,
      input: exported.stdout,
    });
    assert.equal(failing.code, 5, failing.stderr);
    assert.match(failing.stderr, / 1 failed\nerror: 1 row failed: see the report\n$/);
    assert.match(failing.stdout, /"user_id":"grace","outcome":"IMPORT_OUTCOME_FAILED",.*"error_reason":"USER_EXISTS"/);
    const updating = await roster(["users", "import", "--on-conflict", "update"], {
      server: ndjsonTarget,
      input: exported.stdout,
    });
    assert.equal(updating.code, 0, updating.stderr);
    assert.match(updating.stdout, /"user_id":"grace","outcome":"IMPORT_OUTCOME_UPDATED"/);
    assert.equal(
      (await roster(["users", "get", "grace", "--name"], { server: ndjsonTarget })).json().name,
      "Grace Hopper",
    );
  });

  it("exports what the filters match, with a column for each field asked for", async () => {
    const res = await roster(
      ["users", "export", "--state", "requested,suspended", "--name", "--select-state", "--format", "csv"],
      { server: source },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(
      res.stdout,
      "user_id,name,state,password_hash\ngrace,Grace Hopper,STATE_REQUESTED,\nlinus,Linus,STATE_SUSPENDED,\n",
    );
  });

  it("leaves password hashes out unless asked for, and needs admin rights to export", async () => {
    const plain = await roster(["users", "export", "--format", "ndjson", "--id-contains", "ada"], { server: source });
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stdout, /password_hash|\$2b\$/);
    const user = await createUser(source, { userId: "not-an-admin" });
    const denied = await roster(["users", "export"], { server: source, key: user.key });
    assert.equal(denied.code, 6);
    assert.match(denied.stderr, /PERMISSION_DENIED/);
  });

  it("names the bad rows of a dry run in the report, with their reasons, and writes nothing", async () => {
    writeFileSync(
      file("mixed.csv"),
      [
        "user_id,primary_email_address,state,attributes",
        "new-one,new-one@example.com,approved,",
        "Not_An_Id,bad-id@example.com,APPROVED,",
        "new-two,not an email,,",
        'new-three,new-three@example.com,requested,"{""k"":""v""}"',
        "ada,ada@example.com,,",
      ].join("\n"),
    );
    const res = await roster(
      ["users", "import", "--file", file("mixed.csv"), "--dry-run", "--report", file("report")],
      {
        server: source,
      },
    );
    assert.equal(res.code, 3, res.stderr);
    assert.equal(res.stdout, "");
    assert.equal(
      res.stderr,
      "5 rows: 2 created, 0 updated, 0 unchanged, 1 skipped, 2 invalid, 0 failed (dry run: nothing was written)\n" +
        "error: 2 rows invalid: see the report\n",
    );
    const report = readFileSync(file("report"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const bad = report.filter((r) => r.outcome === "IMPORT_OUTCOME_INVALID");
    assert.deepEqual(
      bad.map((r) => [r.row_number, r.user_id]),
      [
        ["3", "Not_An_Id"],
        ["4", "new-two"],
      ],
    );
    assert.match(bad[0].reason, /user_id/);
    assert.match(bad[1].reason, /primary_email_address/);
    for (const id of ["new-one", "new-three"]) {
      assert.equal((await roster(["users", "get", id], { server: source })).code, 4, `${id} was not created`);
    }
  });

  it("refuses a file whose cells are not of their field's type, naming each line, before sending anything", async () => {
    writeFileSync(
      file("unreadable.csv"),
      [
        "user_id,primary_email_address,state,admin,created_at",
        "fine,fine@example.com,approved,false,",
        "odd,odd@example.com,retired,false,",
        "late,late@example.com,,maybe,yesterday",
        "short,short@example.com",
      ].join("\n"),
    );
    const res = await roster(["users", "import", "--file", file("unreadable.csv")], { server: source });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /^line 3: state must be one of REQUESTED, APPROVED, .*not "retired"\n/);
    assert.match(res.stderr, /\nline 4: admin must be true or false, not "maybe"\n/);
    assert.match(res.stderr, /\nline 5: 2 cells, but the header names 5 columns\n/);
    assert.match(res.stderr, /error: 3 rows of .*unreadable\.csv cannot be read; nothing was sent/);
    assert.equal((await roster(["users", "get", "fine"], { server: source })).code, 4);

    writeFileSync(file("columns.csv"), "user_id,colour\nx,red\n");
    const unknown = await roster(["users", "import", "--file", file("columns.csv")], { server: source });
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /unknown column "colour"; map it with --column colour=FIELD .*; the fields are user_id, name, /,
    );
  });

  it("shows progress bars on a terminal: the export's total, the import's rate and time left", async () => {
    const exported = await rosterInTerminal(["users", "export", "--output", file("bar.csv")], [], { server: source });
    assert.equal(exported.code, 0, exported.screen);
    assert.match(exported.screen, /█+ 7\/7 users/);

    const imported = await rosterInTerminal(
      ["users", "import", "--file", file("bar.csv"), "--batch-size", "1", "--report", file("bar.report")],
      [],
      { server: csvTarget },
    );
    assert.equal(imported.code, 0, imported.screen);
    assert.match(imported.screen, /\d+\/7 rows \| \d+\/s \| ETA /);
    assert.match(imported.screen, /7 rows: 1 created, 0 updated, 0 unchanged, 6 skipped, 0 invalid, 0 failed/);
  });
});
