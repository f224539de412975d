import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  hashToken,
  isImportedTokenShape,
  isRecordId,
  newRecordId,
  newToken,
  type TokenKind,
  tokenKind,
  tokenPrefixes,
} from "../../server/secrets/token-format.js";

const kinds = Object.keys(tokenPrefixes) as TokenKind[];

describe("tokens", () => {
  it("carry their kind's prefix and are recognised as that kind", () => {
    for (const kind of kinds) {
      const token = newToken(kind);
      assert.ok(token.startsWith(tokenPrefixes[kind]));
      assert.match(token, /^rst_[a-z]{2}_[0-9A-Za-z]{38}$/);
      assert.equal(tokenKind(token), kind);
    }
  });

  it("are never the same twice", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newToken("apiKey")));
    assert.equal(tokens.size, 1000);
  });

  it("are refused when one character of the random part or checksum changes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.nat(),
        fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
        (kind, n, c) => {
          const token = newToken(kind);
          const at = tokenPrefixes[kind].length + (n % (token.length - tokenPrefixes[kind].length));
          fc.pre(token[at] !== c);
          assert.equal(tokenKind(token.slice(0, at) + c + token.slice(at + 1)), undefined);
        },
      ),
    );
  });

  it("are refused when cut short, lengthened or of an unknown prefix", () => {
    const token = newToken("login");
    assert.equal(tokenKind(token.slice(0, -1)), undefined);
    assert.equal(tokenKind(`${token}0`), undefined);
    assert.equal(tokenKind(token.replace("rst_lt_", "rst_xx_")), undefined);
    assert.equal(tokenKind(""), undefined);
  });

  it("are stored as their SHA-256 in hex", () => {
    assert.equal(hashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("record ids and imported tokens", () => {
  it("make record ids that have their own shape", () => {
    const id = newRecordId("ak_");
    assert.ok(isRecordId("ak_", id));
    assert.ok(!isRecordId("iv_", id));
    assert.ok(!isRecordId("ak_", `${id}x`));
    assert.ok(!isRecordId("ak_", id.toUpperCase()));
  });

  it("take other systems' tokens of 16 to 512 printable characters, but not Roster's", () => {
    assert.ok(isImportedTokenShape("a".repeat(16)));
    assert.ok(isImportedTokenShape("x".repeat(512)));
    assert.ok(!isImportedTokenShape("a".repeat(15)));
    assert.ok(!isImportedTokenShape("a".repeat(513)));
    assert.ok(!isImportedTokenShape("with a space in it"));
    assert.ok(!isImportedTokenShape(newToken("apiKey")));
  });
});
