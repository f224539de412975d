import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { recordColumns } from "../../cli/csv-records.js";
import { UserRecordSchema } from "../../gen/roster/v1/user_bulk_pb.js";
import { TokenStatus } from "../../gen/roster/v1/user_pb.js";
import { resolveReadMask } from "../../server/requests/fieldmask.js";
import { userDocumentFields, userFromDocument } from "../../server/store/user-documents.js";
import { maskRules } from "../../shared/field-model.js";
import { userModel } from "../../shared/user-model.js";

// token_status is annotated `computed: true` in user.proto; nothing else names it to these.
describe("a computed user field", () => {
  it("is read only when a mask names it, and only by whom may read private fields", () => {
    const rules = maskRules(userModel);
    assert.equal(userModel.byName.get("token_status")?.computed, true);
    assert.ok(!resolveReadMask(rules, [], true).includes("token_status"));
    assert.deepEqual(resolveReadMask(rules, ["name", "token_status"], true), ["name", "token_status"]);
    assert.throws(() => resolveReadMask(rules, ["token_status"], false), /token_status/);
  });

  it("has no place in stored documents, exports or imports", () => {
    assert.ok(!userDocumentFields.includes("token_status"));
    assert.ok(userDocumentFields.includes("name"));
    const user = userFromDocument({ user_id: "ada", token_status: "TOKEN_STATUS_ACTIVE" } as never);
    assert.equal(user.tokenStatus, TokenStatus.UNSPECIFIED);
    const columns = recordColumns(UserRecordSchema).map((c) => c.path.join("."));
    assert.ok(columns.includes("user.name"));
    assert.ok(!columns.some((c) => c.includes("token_status")));
  });
});
