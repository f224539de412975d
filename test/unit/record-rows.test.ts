import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type DescMessage, type JsonObject, toJson } from "@bufbuild/protobuf";
import { stringify } from "csv-stringify/sync";
import fc from "fast-check";
import { mapColumns, parseColumnMappings } from "../../cli/column-mapping.js";
import { recordCells, recordColumns, recordJson, selectedColumns } from "../../cli/csv-records.js";
import { loadRegistry } from "../../cli/descriptors.js";
import { csvLayout, importFormatOf, readRows } from "../../cli/record-rows.js";

const registry = loadRegistry();
const recordType = registry.getMessage("roster.v1.UserRecord") as DescMessage;
const columns = recordColumns(recordType);
const header = { mappings: new Map<string, string>(), header: true };
const json = (rows: { record: unknown }[]) =>
  rows.map((r) => toJson(recordType, r.record as never, { useProtoFieldName: true, registry }) as JsonObject);

describe("record columns", () => {
  it("flatten a record's user into one column per field, then its own fields", () => {
    const names = columns.map((c) => c.name);
    assert.equal(names[0], "user_id");
    for (const name of ["name", "primary_email_address", "attributes", "state", "password_hash", "api_key"]) {
      assert.ok(names.includes(name), name);
    }
  });

  it("leave import-only columns out of exports, and keep the id and the fields asked for", () => {
    assert.ok(!selectedColumns(columns, "user", []).some((c) => c.name === "api_key"));
    const picked = selectedColumns(columns, "user", ["name"]).map((c) => c.name);
    assert.deepEqual(picked, ["user_id", "name", "password_hash"]);
  });

  it("write cells as proto3 JSON values and read them back", () => {
    const record = { user: { user_id: "ada", name: "Ada", attributes: { team: "x" }, state: "STATE_APPROVED" } };
    const cells = recordCells(record, columns);
    assert.equal(cells[columns.findIndex((c) => c.name === "attributes")], '{"team":"x"}');
    assert.deepEqual(recordJson(cells, columns), record);
  });

  it("name the column of a cell that is not of its field's type", () => {
    const cells = columns.map((c) => (c.name === "admin" ? "perhaps" : ""));
    assert.throws(() => recordJson(cells, columns), /admin must be true or false/);
    const map = columns.map((c) => (c.name === "attributes" ? "[1]" : ""));
    assert.throws(() => recordJson(map, columns), /attributes must be a JSON object/);
  });
});

describe("reading rows", () => {
  it("read a CSV with a header, numbering rows by their line", () => {
    const text =
      'user_id,name,primary_email_address\nada,"Lovelace, Ada",ada@example.com\n\ngrace,"Grace\nHopper",g@x.org\n';
    const { rows, problems } = readRows(text, "csv", recordType, registry, header);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      rows.map((r) => r.line),
      [2, 5],
    );
    assert.deepEqual(json(rows), [
      { user: { user_id: "ada", name: "Lovelace, Ada", primary_email_address: "ada@example.com" } },
      { user: { user_id: "grace", name: "Grace\nHopper", primary_email_address: "g@x.org" } },
    ]);
  });

  it("report rows with the wrong number of cells or bad values, and read the others", () => {
    const text = "user_id,admin\nada,true\nbob\ncy,perhaps\n";
    const { rows, problems } = readRows(text, "csv", recordType, registry, header);
    assert.deepEqual(json(rows), [{ user: { user_id: "ada", admin: true } }]);
    assert.deepEqual(problems, [
      "line 3: 1 cells, but the header names 2 columns",
      'line 4: admin must be true or false, not "perhaps"',
    ]);
  });

  it("read NDJSON, one object per line, naming lines that are not objects", () => {
    const text = '{"user":{"user_id":"ada"}}\n\n[1]\nnot json\n{"user":{"userId":"bob"}}\n';
    const { rows, problems } = readRows(text, "ndjson", recordType, registry, header);
    assert.deepEqual(
      rows.map((r) => r.line),
      [1, 5],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0] as string, /^line 3: not a JSON object/);
    assert.match(problems[1] as string, /^line 4: not JSON/);
  });

  it("map other systems' headers, --column mappings and layouts", () => {
    const text = "Email,Full_Name,Enabled,Team\nada@example.com,Ada,yes,x\n";
    const layout = csvLayout({ column: ["team=-"] });
    const { rows, problems } = readRows(text, "csv", recordType, registry, layout);
    assert.deepEqual(problems, []);
    assert.deepEqual(json(rows), [{ user: { primary_email_address: "ada@example.com", name: "Ada" } }]);

    const reana = readRows(
      "6b0c-id,ada@example.com,tok,,Ada L\n",
      "csv",
      recordType,
      registry,
      csvLayout({ layout: "reana" }),
    );
    assert.deepEqual(json(reana.rows), [
      { user: { user_id: "6b0c-id", primary_email_address: "ada@example.com", name: "Ada L" }, api_key: "tok" },
    ]);
  });

  it("refuse unknown columns and malformed mappings with a hint", () => {
    assert.throws(
      () => mapColumns(["shoe_size"], columns, new Map(), false),
      /unknown column "shoe_size"; map it with --column shoe_size=FIELD/,
    );
    assert.throws(() => parseColumnMappings(["no-equals"]), /--column takes SOURCE=FIELD/);
    assert.throws(() => csvLayout({ layout: "nope" }), /unknown --layout nope/);
  });

  it("tell CSV, NDJSON and JSON apart by flag, extension or content", () => {
    assert.equal(importFormatOf({ format: "ndjson" }, "users.csv", ""), "ndjson");
    assert.equal(importFormatOf({}, "users.jsonl", ""), "ndjson");
    assert.equal(importFormatOf({}, undefined, '  {"user":{}}'), "ndjson");
    assert.equal(importFormatOf({}, undefined, "user_id\nada"), "csv");
    assert.equal(importFormatOf({}, "users.json", ""), "json");
  });

  it("read back any users written as CSV, whatever their text holds", () => {
    const text = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => s.trim() === s || s === "");
    const user = fc.record(
      {
        user_id: fc.stringMatching(/^[a-z][a-z0-9]{1,10}$/),
        name: text,
        description: text,
        attributes: fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), text, { maxKeys: 3, noNullPrototype: true }),
        admin: fc.boolean(),
      },
      { requiredKeys: ["user_id"] },
    );
    fc.assert(
      fc.property(fc.array(user, { minLength: 1, maxLength: 5 }), (users) => {
        const records = users.map((u) => {
          const clean = Object.fromEntries(
            Object.entries(u).filter(
              ([, v]) => v !== "" && v !== false && !(typeof v === "object" && Object.keys(v).length === 0),
            ),
          );
          return { user: clean } as JsonObject;
        });
        const csv = stringify([columns.map((c) => c.name), ...records.map((r) => recordCells(r, columns))]);
        const { rows, problems } = readRows(csv, "csv", recordType, registry, header);
        assert.deepEqual(problems, []);
        assert.deepEqual(json(rows), records);
      }),
    );
  });
});
