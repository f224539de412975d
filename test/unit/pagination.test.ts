import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { createPaginator, defaultLimit, maxLimit, offsetPage } from "../../server/requests/pagination.js";

const orders = ["user_id", "name", "created_at"] as const;
const request = (r: Partial<{ limit: number; page: number; pageToken: string; order: string }>) => ({
  limit: 0,
  page: 0,
  pageToken: "",
  order: "",
  ...r,
});

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConnectError);
    return err.findDetails(ErrorInfoSchema)[0]?.reason;
  }
  assert.fail("it did not throw");
}

describe("page requests", () => {
  const paginator = createPaginator(randomBytes(32));

  it("default the limit, lower a larger one to the maximum, and refuse a negative one", () => {
    assert.equal(paginator.parse(request({}), orders, "q").limit, defaultLimit);
    assert.equal(paginator.parse(request({ limit: maxLimit + 1 }), orders, "q").limit, maxLimit);
    assert.equal(paginator.parse(request({ limit: 7 }), orders, "q").limit, 7);
    assert.equal(
      reason(() => paginator.parse(request({ limit: -1 }), orders, "q")),
      "INVALID_ARGUMENT",
    );
    assert.equal(
      reason(() => paginator.parse(request({ page: -1 }), orders, "q")),
      "INVALID_ARGUMENT",
    );
  });

  it("turn 1-based page numbers into offsets", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: maxLimit }), (page, limit) => {
        const parsed = paginator.parse(request({ page, limit }), orders, "q");
        assert.equal(parsed.skip, page > 1 ? (page - 1) * limit : 0);
        assert.deepEqual(offsetPage({ page, limit }), { skip: parsed.skip, limit });
      }),
    );
  });

  it("order by the first allowed field by default, and by any allowed one, descending with a -", () => {
    assert.deepEqual(paginator.parse(request({}), orders, "q").order, { field: "user_id", descending: false });
    assert.deepEqual(paginator.parse(request({ order: "-name" }), orders, "q").order, {
      field: "name",
      descending: true,
    });
    assert.equal(
      reason(() => paginator.parse(request({ order: "password_hash" }), orders, "q")),
      "INVALID_ORDER",
    );
  });
});

describe("page tokens", () => {
  const paginator = createPaginator(randomBytes(32));
  const value = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.integer(),
    fc.boolean(),
    fc.date({ min: new Date(0), max: new Date(8.64e15), noInvalidDate: true }),
  );
  const position = fc.record({
    order: fc.constantFrom(...orders),
    descending: fc.boolean(),
    fingerprint: fc.string(),
    value,
    userId: fc.string({ minLength: 1, maxLength: 36 }),
    total: fc.nat(),
  });

  it("carry the last position and the total to the next page", () => {
    fc.assert(
      fc.property(position, (p) => {
        const order = { field: p.order, descending: p.descending };
        const token = paginator.nextToken(order, p.fingerprint, p.value, p.userId, p.total);
        const orderText = `${p.descending ? "-" : ""}${p.order}`;
        const parsed = paginator.parse(request({ pageToken: token, order: orderText, page: 9 }), orders, p.fingerprint);
        assert.deepEqual(parsed.after, { value: p.value, userId: p.userId });
        assert.equal(parsed.total, p.total);
        assert.equal(parsed.skip, 0);
        assert.deepEqual(parsed.order, order);
      }),
    );
  });

  it("are refused for another query, another order, or from another key", () => {
    fc.assert(
      fc.property(position, fc.string(), (p, other) => {
        fc.pre(other !== p.fingerprint);
        const order = { field: p.order, descending: p.descending };
        const token = paginator.nextToken(order, p.fingerprint, p.value, p.userId, p.total);
        const orderText = `${p.descending ? "-" : ""}${p.order}`;
        const parse = (pageToken: string, o: string, fingerprint: string, by = paginator) =>
          reason(() => by.parse(request({ pageToken, order: o }), orders, fingerprint));
        assert.equal(parse(token, orderText, other), "INVALID_PAGE_TOKEN");
        assert.equal(parse(token, `${p.descending ? "" : "-"}${p.order}`, p.fingerprint), "INVALID_PAGE_TOKEN");
        assert.equal(parse(token, orderText, p.fingerprint, createPaginator(randomBytes(32))), "INVALID_PAGE_TOKEN");
      }),
      { numRuns: 50 },
    );
  });

  it("are refused when what they say or their signature is changed", () => {
    const order = { field: "name", descending: false };
    const token = paginator.nextToken(order, "q", "Ada", "ada", 3);
    const [body, signature] = token.split(".") as [string, string];
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(..."AZaz09-_."), (at, c) => {
        const altered = token.slice(0, at) + c + token.slice(at + 1);
        const [alteredBody, alteredSignature = ""] = altered.split(".");
        // The last base64 character of the signature has bits no byte uses: the same signature.
        const same =
          alteredBody === body &&
          Buffer.from(alteredSignature, "base64url").equals(Buffer.from(signature, "base64url")) &&
          altered.split(".").length === 2;
        fc.pre(!same);
        const parse = () => paginator.parse(request({ pageToken: altered, order: "name" }), orders, "q");
        assert.equal(reason(parse), "INVALID_PAGE_TOKEN");
      }),
    );
  });
});
