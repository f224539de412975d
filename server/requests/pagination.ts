import { createHmac, timingSafeEqual } from "node:crypto";
import type { HandlerContext } from "@connectrpc/connect";
import { errInvalidOrder, errInvalidPageToken, invalidArgument } from "../../shared/errors.js";

/** Page size when a request sets none. */
export const defaultLimit = 100;
/** Largest page; larger requests are lowered to it. */
export const maxLimit = 1000;

/** The response header that carries a list's total, beside the response's `total_size`. */
export const totalCountHeader = "x-total-count";

/** Send a list's total in the `x-total-count` header. */
export function sendTotalCount(ctx: HandlerContext, total: number | bigint): void {
  ctx.responseHeader.set(totalCountHeader, String(total));
}

/** Where a page starts: an offset (page numbers) or a keyset position (tokens). */
export interface PageRequest<O extends string> {
  limit: number;
  skip: number;
  order: { field: O; descending: boolean };
  after?: { value: unknown; userId: string };
  /** The total counted for the first page, carried by the token. */
  total?: number;
}

interface TokenPayload {
  /** order, e.g. "-created_at" */
  o: string;
  /** fingerprint of the filter the token was made for */
  q: string;
  /** sort value of the last item */
  v: unknown;
  /** user_id of the last item */
  u: string;
  /** total counted for the first page */
  t: number;
}

/**
 * Signs and reads opaque page tokens. A token records where the previous
 * page ended (sort value and user id), so the next page is a range query
 * whose cost does not depend on how deep it is. Tokens are HMAC-signed: one
 * that was altered, or that belongs to another query, is INVALID_ARGUMENT.
 */
export interface Paginator {
  parse<O extends string>(
    request: { limit: number; page: number; pageToken: string; order: string },
    allowedOrders: readonly O[],
    fingerprint: string,
  ): PageRequest<O>;
  nextToken(
    order: { field: string; descending: boolean },
    fingerprint: string,
    lastValue: unknown,
    lastUserId: string,
    total: number,
  ): string;
}

function encodeValue(value: unknown): unknown {
  return value instanceof Date ? { $date: value.toISOString() } : value;
}

function decodeValue(value: unknown): unknown {
  if (value && typeof value === "object" && "$date" in value)
    return new Date(String((value as { $date: string }).$date));
  return value;
}

function orderName(order: { field: string; descending: boolean }): string {
  return (order.descending ? "-" : "") + order.field;
}

export function createPaginator(key: Buffer): Paginator {
  const sign = (payload: string) => createHmac("sha256", key).update(payload).digest().subarray(0, 16);
  return {
    parse(request, allowedOrders, fingerprint) {
      const { limit, skip } = offsetPage(request);
      const orderText = request.order || allowedOrders[0];
      const field = (orderText ?? "").replace(/^-/, "") as (typeof allowedOrders)[number];
      if (!allowedOrders.includes(field)) {
        throw errInvalidOrder({ order: request.order, allowed: allowedOrders.join(", ") });
      }
      const order = { field, descending: orderText?.startsWith("-") ?? false };
      if (!request.pageToken) {
        return { limit, skip, order };
      }
      const [body, signature] = request.pageToken.split(".");
      let payload: TokenPayload;
      try {
        const expected = sign(body ?? "");
        const given = Buffer.from(signature ?? "", "base64url");
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error("signature");
        payload = JSON.parse(Buffer.from(body ?? "", "base64url").toString("utf8")) as TokenPayload;
      } catch (err) {
        throw errInvalidPageToken({}, err);
      }
      if (payload.o !== orderName(order) || payload.q !== fingerprint || typeof payload.u !== "string") {
        throw errInvalidPageToken({});
      }
      return {
        limit,
        skip: 0,
        order,
        after: { value: decodeValue(payload.v), userId: payload.u },
        total: typeof payload.t === "number" ? payload.t : undefined,
      };
    },
    nextToken(order, fingerprint, lastValue, lastUserId, total) {
      const payload: TokenPayload = {
        o: orderName(order),
        q: fingerprint,
        v: encodeValue(lastValue),
        u: lastUserId,
        t: total,
      };
      const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
      return `${body}.${sign(body).toString("base64url")}`;
    },
  };
}

/** Validate `limit` and 1-based `page` of a small list paged by offset. */
export function offsetPage(request: { limit: number; page: number }): { skip: number; limit: number } {
  if (request.limit < 0) throw invalidArgument([{ field: "limit", description: "must not be negative" }]);
  if (request.page < 0) throw invalidArgument([{ field: "page", description: "must not be negative" }]);
  const limit = request.limit === 0 ? defaultLimit : Math.min(request.limit, maxLimit);
  return { limit, skip: request.page > 1 ? (request.page - 1) * limit : 0 };
}
