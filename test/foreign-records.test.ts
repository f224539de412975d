/**
 * Other systems' JSON users as Roster's import records (cli/foreign-records.ts):
 * pure mapping, checked in process.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { recordFromForeign, usersOfDocument } from "../cli/foreign-records.js";

describe("other systems' JSON users as import records", () => {
  it("keeps The Things Stack's shared fields and drops the rest", () => {
    const record = recordFromForeign({
      ids: { user_id: "new-user" },
      name: "New User",
      primaryEmailAddress: "new@example.com",
      state: "STATE_FLAGGED",
      contact_info: [{ value: "x" }],
      universal_rights: ["RIGHT_ALL"],
      deleted_at: "2020-01-01T00:00:00Z",
    });
    assert.deepEqual(record, {
      user: {
        user_id: "new-user",
        name: "New User",
        primary_email_address: "new@example.com",
        state: "STATE_FLAGGED",
        deleted_at: "2020-01-01T00:00:00Z",
      },
    });
  });

  it("maps a Keycloak user: id, name, state, verification, required change, attributes", () => {
    const record = recordFromForeign({
      id: "5e9c9a2b-7a7f-454a-b8e7-91e3c2d86c9f",
      username: "john",
      firstName: "John",
      lastName: "Hansarick",
      email: "john@example.com",
      emailVerified: true,
      enabled: false,
      createdTimestamp: 1669221287375,
      requiredActions: ["UPDATE_PASSWORD", "VERIFY_EMAIL"],
      attributes: { team: ["a", "b"], "bad.key": ["x"], $op: ["y"] },
    });
    assert.deepEqual(record, {
      user: {
        user_id: "5e9c9a2b-7a7f-454a-b8e7-91e3c2d86c9f",
        name: "John Hansarick",
        primary_email_address: "john@example.com",
        created_at: "2022-11-23T16:34:47.375Z",
        primary_email_address_validated_at: "2022-11-23T16:34:47.375Z",
        state: "STATE_SUSPENDED",
        require_password_update: true,
        attributes: { username: "john", team: "a,b" },
      },
    });
  });

  it("leaves Roster's own records alone", () => {
    const own = { user: { user_id: "ada" }, password_hash: "$argon2id$..." };
    assert.equal(recordFromForeign(own), own);
    assert.deepEqual(recordFromForeign({ id: "not-keycloak" }), { id: "not-keycloak" });
  });

  it("finds the users of an array, of {users: [...]}, and of Wallaroo's {users: {id: user}}", () => {
    assert.deepEqual(usersOfDocument([{ a: 1 }]), [{ a: 1 }]);
    assert.deepEqual(usersOfDocument({ users: [{ a: 1 }] }), [{ a: 1 }]);
    assert.deepEqual(usersOfDocument({ users: { x: { a: 1 }, y: { a: 2 } } }), [{ a: 1 }, { a: 2 }]);
    assert.equal(usersOfDocument({ user: {} }), undefined);
    assert.equal(usersOfDocument("text"), undefined);
  });
});
