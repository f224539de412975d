import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { filterTextMaxChars } from "../../server/requests/request-rules.js";
import { ScimError } from "../../server/scim/scim-error.js";
import { conditionOfFilter, maxFilterChars } from "../../server/scim/scim-filter.js";
import { conditionQuery } from "../../server/store/user-conditions.js";

function invalidFilter(text: string): string {
  try {
    conditionOfFilter(text);
  } catch (err) {
    assert.ok(err instanceof ScimError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.scimType, "invalidFilter");
    return err.message;
  }
  assert.fail(`${text} was accepted`);
}

describe("SCIM filters", () => {
  it("compare userName with the id and the provisioned name", () => {
    assert.deepEqual(conditionOfFilter('userName eq "Ada@Example.com"'), {
      op: "or",
      conditions: [
        { op: "eq", field: "user_id", value: "ada@example.com" },
        { op: "eq", field: "attributes.scim_userName", value: "Ada@Example.com", ignoreCase: true },
      ],
    });
  });

  it("map attributes to stored fields, lower-casing emails", () => {
    assert.deepEqual(conditionOfFilter('emails.value eq "Ada@Example.COM"'), {
      op: "eq",
      field: "email_key",
      value: "ada@example.com",
      ignoreCase: false,
    });
    assert.deepEqual(conditionOfFilter('displayName sw "Ad"'), {
      op: "sw",
      field: "name",
      value: "Ad",
      ignoreCase: true,
    });
    assert.deepEqual(conditionOfFilter("urn:ietf:params:scim:schemas:core:2.0:User:id pr"), {
      op: "pr",
      field: "user_id",
    });
  });

  it("read active as the APPROVED state", () => {
    assert.deepEqual(conditionOfFilter("active eq true"), { op: "eq", field: "state", value: "APPROVED" });
    assert.deepEqual(conditionOfFilter("active eq false"), { op: "ne", field: "state", value: "APPROVED" });
    assert.deepEqual(conditionOfFilter("active ne false"), { op: "eq", field: "state", value: "APPROVED" });
  });

  it("keep and, or, not and emails[...] groups", () => {
    assert.deepEqual(conditionOfFilter('not (id eq "a") and emails[value co "x" and primary eq true]'), {
      op: "and",
      conditions: [
        { op: "not", condition: { op: "eq", field: "user_id", value: "a", ignoreCase: false } },
        {
          op: "and",
          conditions: [
            { op: "co", field: "email_key", value: "x", ignoreCase: false },
            { op: "pr", field: "email_key" },
          ],
        },
      ],
    });
  });

  it("compare dates as dates, and refuse text operators on them", () => {
    const condition = conditionOfFilter('meta.lastModified gt "2024-05-01T00:00:00Z"');
    assert.deepEqual(condition, { op: "gt", field: "updated_at", value: new Date("2024-05-01T00:00:00Z") });
    assert.match(invalidFilter('meta.created gt "yesterday"'), /must be compared with a date/);
    assert.match(invalidFilter('meta.created co "2024"'), /co does not apply/);
  });

  it("refuse what Roster cannot filter on, what does not parse, and what is too large", () => {
    assert.match(invalidFilter('password eq "x"'), /not a filterable attribute/);
    assert.match(invalidFilter("id eq"), /cannot be parsed/);
    assert.match(invalidFilter(`id eq "${"x".repeat(filterTextMaxChars + 1)}"`), /at most/);
    assert.match(invalidFilter(`id pr${" or id pr".repeat(50)}`), /at most 50 comparisons/);
    assert.match(invalidFilter(" ".repeat(maxFilterChars + 1)), /longer than/);
  });

  it("keep any value as data: it never becomes an operator or an unescaped pattern", () => {
    const value = fc.string({ maxLength: 40 }).filter((s) => !/["\\]/.test(s));
    fc.assert(
      fc.property(value, fc.constantFrom("eq", "co", "sw", "ew"), (v, op) => {
        const query = conditionQuery(conditionOfFilter(`displayName ${op} "${v}"`)) as Record<string, unknown>;
        const test = (query.name ?? (query.$nor as Record<string, unknown>[] | undefined)?.[0]?.name) as {
          $regex: string;
        };
        const pattern = new RegExp(test.$regex, "i");
        const core = test.$regex.replace(/^\^/, "").replace(/\$$/, "");
        // The pattern matches the value itself, literally.
        assert.ok(pattern.test(op === "ew" ? `x${v}` : op === "sw" ? `${v}x` : v), test.$regex);
        assert.equal(new RegExp(`^${core}$`).test(v), true);
        assert.ok(!JSON.stringify(query).includes('"$where"'));
      }),
    );
  });
});
