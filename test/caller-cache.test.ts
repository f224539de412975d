import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ObjectId } from "mongodb";
import type { Caller } from "../server/access/caller.js";
import { createCallerCache } from "../server/access/caller-cache.js";

const caller: Caller = {
  userId: "ada",
  userRef: new ObjectId(),
  admin: false,
  rights: new Set(),
  tokenId: "k1",
  tokenKind: "api_key",
};

describe("caller cache", () => {
  it("keeps a caller for the time to live, and no longer", () => {
    const cache = createCallerCache(1000, () => 0);
    cache.set("h", caller, 0, undefined, 10_000);
    assert.equal(cache.get("h", 10_999), caller);
    assert.equal(cache.get("h", 11_000), undefined);
  });

  it("keeps no caller past its token's expiry", () => {
    const cache = createCallerCache(1000, () => 0);
    cache.set("h", caller, 0, 10_200, 10_000);
    assert.equal(cache.get("h", 10_199), caller);
    assert.equal(cache.get("h", 10_200), undefined);
  });

  it("drops every caller once this process writes to users or tokens, and keeps none read before a write", () => {
    let generation = 5;
    const cache = createCallerCache(1000, () => generation);
    cache.set("h", caller, 5, undefined, 0);
    generation++;
    assert.equal(cache.get("h", 1), undefined, "a write since it was read");
    cache.set("h", caller, 5, undefined, 1);
    assert.equal(cache.get("h", 2), undefined, "read before the write: not kept");
  });

  it("keeps nothing with a time to live of 0", () => {
    const cache = createCallerCache(0, () => 0);
    cache.set("h", caller, 0, undefined, 0);
    assert.equal(cache.get("h", 0), undefined);
  });
});
