import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newEtag } from "../../server/store/users-store.js";

describe("etags", () => {
  it("are 12 URL-safe characters, distinct, and never start with '-' (the CLI would read a flag)", () => {
    const etags = Array.from({ length: 20_000 }, newEtag);
    for (const etag of etags) {
      assert.match(etag, /^[A-Za-z0-9_][A-Za-z0-9_-]{11}$/);
    }
    assert.equal(new Set(etags).size, etags.length);
  });
});
