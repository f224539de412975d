import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadRegistry } from "../../cli/descriptors.js";
import { Right } from "../../gen/roster/v1/rights_pb.js";
import {
  adminRights,
  expandRights,
  rightFromName,
  rightName,
  rightsInState,
  rightsOfUser,
  userRights,
} from "../../server/rights/rights.js";
import { accessRuleOf } from "../../server/rights/rights-table.js";

const allRights = Object.values(Right).filter((r): r is Right => typeof r === "number");

describe("rights", () => {
  it("expand USER_ALL and ADMIN_ALL into what they stand for, and drop UNSPECIFIED", () => {
    assert.deepEqual(expandRights([Right.USER_ALL]), new Set(userRights));
    assert.deepEqual(expandRights([Right.ADMIN_ALL]), new Set(adminRights));
    assert.deepEqual(expandRights([Right.UNSPECIFIED, Right.SCIM]), new Set([Right.SCIM]));
  });

  it("never hold an *_ALL right after expansion, and keep every concrete right asked for", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...allRights)), (rights) => {
        const expanded = expandRights(rights);
        assert.ok(!expanded.has(Right.USER_ALL) && !expanded.has(Right.ADMIN_ALL) && !expanded.has(Right.UNSPECIFIED));
        for (const r of rights) {
          if (r !== Right.USER_ALL && r !== Right.ADMIN_ALL && r !== Right.UNSPECIFIED) assert.ok(expanded.has(r));
        }
        assert.deepEqual(expandRights(expanded), expanded);
      }),
    );
  });

  it("give users their own rights, admins also the admin rights", () => {
    assert.deepEqual(rightsOfUser(false), new Set(userRights));
    assert.deepEqual(rightsOfUser(true), new Set([...userRights, ...adminRights]));
  });

  it("hold rights only while APPROVED; REQUESTED users may look and change their password", () => {
    assert.deepEqual(rightsInState(true, "APPROVED"), rightsOfUser(true));
    assert.deepEqual(rightsInState(true, "REQUESTED"), new Set([Right.USER_INFO, Right.USER_PASSWORD]));
    for (const state of ["REJECTED", "FLAGGED", "SUSPENDED"]) assert.equal(rightsInState(true, state).size, 0);
  });

  it("round-trip through their names, with or without RIGHT_", () => {
    for (const right of allRights.filter((r) => r !== Right.UNSPECIFIED)) {
      assert.equal(rightFromName(rightName(right)), right);
      assert.equal(rightFromName(`RIGHT_${rightName(right)}`), right);
    }
    assert.equal(rightFromName("UNSPECIFIED"), undefined);
    assert.equal(rightFromName("NOT_A_RIGHT"), undefined);
    assert.throws(() => rightName(Right.UNSPECIFIED));
  });
});

describe("the rights table", () => {
  it("has a rule for every method of every service the API defines", () => {
    const registry = loadRegistry();
    const missing: string[] = [];
    for (const file of registry.files) {
      for (const service of file.services) {
        for (const method of service.methods) if (!accessRuleOf(method)) missing.push(method.toString());
      }
    }
    assert.deepEqual(missing, []);
  });
});
