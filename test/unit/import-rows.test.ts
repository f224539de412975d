import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ObjectId } from "mongodb";
import { type UserRecord, UserRecordSchema } from "../../gen/roster/v1/user_bulk_pb.js";
import { State, type UserSchema } from "../../gen/roster/v1/user_pb.js";
import { candidateFromRow, type ImportCandidate, updatedUser } from "../../server/bulk/import-rows.js";
import type { UserDocument } from "../../server/store/user-documents.js";

const now = new Date("2026-01-02T03:04:05Z");
const argon = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

function row(
  user: MessageInitShape<typeof UserSchema>,
  extra: { passwordHash?: string; apiKey?: string } = {},
): UserRecord {
  return create(UserRecordSchema, { user, ...extra });
}

function candidate(r: UserRecord): ImportCandidate {
  const result = candidateFromRow(r, "importer", now);
  assert.ok(!("problem" in result), "problem" in result ? result.problem : "");
  return result;
}

function problem(r: UserRecord): string {
  const result = candidateFromRow(r, "importer", now);
  assert.ok("problem" in result, "the row was accepted");
  return result.problem;
}

describe("import rows", () => {
  it("become users as Create makes them: APPROVED, stamped now and by the importer", () => {
    const c = candidate(row({ userId: "ada", name: "Ada", primaryEmailAddress: "Ada@Example.com" }));
    assert.equal(c.doc.state, "APPROVED");
    assert.equal(c.doc.email_key, "ada@example.com");
    assert.equal(c.doc.created_at.getTime(), now.getTime());
    assert.equal(c.doc.created_by, "importer");
    assert.equal(c.hasPassword, false);
    assert.equal(c.doc.password_hash, null);
  });

  it("keep the timestamps, state and authors a row carries", () => {
    const created = new Date("2020-01-01T00:00:00Z");
    const c = candidate(
      row({
        userId: "ada",
        primaryEmailAddress: "ada@example.com",
        state: State.SUSPENDED,
        createdAt: timestampFromDate(created),
        createdBy: "grace",
      }),
    );
    assert.equal(c.doc.state, "SUSPENDED");
    assert.equal(c.doc.created_at.getTime(), created.getTime());
    assert.equal(c.doc.created_by, "grace");
    assert.equal(c.doc.updated_by, "importer");
  });

  it("refuse invalid ids, the system user, deleted users, bad hashes and Roster keys, naming each problem", () => {
    assert.match(problem(row({ userId: "Not Valid", primaryEmailAddress: "a@b" })), /user\.user_id/);
    assert.match(problem(row({ userId: "system", primaryEmailAddress: "a@b" })), /built-in system user/);
    assert.match(
      problem(row({ userId: "ada", primaryEmailAddress: "a@b", deletedAt: timestampFromDate(now) })),
      /soft-deleted/,
    );
    assert.match(
      problem(row({ userId: "ada", primaryEmailAddress: "a@b" }, { passwordHash: "plain" })),
      /password_hash/,
    );
    assert.match(problem(row({ userId: "ada", primaryEmailAddress: "a@b" }, { apiKey: "rst_ak_x" })), /api_key/);
    const several = problem(row({ userId: "A", primaryEmailAddress: "nope" }));
    assert.match(several, /user\.user_id: .*; user\.primary_email_address: /);
    assert.match(problem(row({ userId: "ada", primaryEmailAddress: "a@b", createdBy: "Not An Id" })), /created_by/);
    assert.equal(problem(create(UserRecordSchema, {})), "user: is required");
  });

  it("carry a password hash, dated by the row or now", () => {
    const c = candidate(row({ userId: "ada", primaryEmailAddress: "a@b" }, { passwordHash: argon }));
    assert.equal(c.hasPassword, true);
    assert.equal(c.doc.password_hash, argon);
    assert.equal(c.doc.password_updated_at?.getTime(), now.getTime());
  });
});

describe("rows imported again", () => {
  const stored = (c: ImportCandidate, changes: Partial<UserDocument> = {}): UserDocument => ({
    ...c.doc,
    _id: c.doc.user_id,
    ref: new ObjectId(),
    etag: "e1",
    revision: 1,
    ...changes,
  });

  it("change nothing when the user already matches", () => {
    const c = candidate(row({ userId: "ada", name: "Ada", primaryEmailAddress: "a@b", attributes: { t: "1" } }));
    assert.equal(updatedUser(stored(c), c, now), undefined);
  });

  it("update what differs, keeping created_at", () => {
    const c = candidate(row({ userId: "ada", name: "Ada L", primaryEmailAddress: "a@b" }));
    const before = stored(c, { name: "Ada", created_at: new Date(0) });
    const after = updatedUser(before, c, new Date(now.getTime() + 1000));
    assert.equal(after?.name, "Ada L");
    assert.equal(after?.created_at.getTime(), 0);
    assert.equal(after?.updated_at.getTime(), now.getTime() + 1000);
  });

  it("never put back an older password", () => {
    const old = new Date("2020-01-01T00:00:00Z");
    const c = candidate(
      row(
        { userId: "ada", primaryEmailAddress: "a@b", passwordUpdatedAt: timestampFromDate(old) },
        { passwordHash: argon },
      ),
    );
    const newer = stored(c, { password_hash: "$argon2id$newer", password_updated_at: now });
    assert.equal(updatedUser(newer, c, now), undefined);
    const older = stored(c, { password_hash: "$argon2id$older", password_updated_at: new Date(0) });
    assert.equal(updatedUser(older, c, now)?.password_hash, argon);
  });
});
