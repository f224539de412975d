import type http from "node:http";
import type http2 from "node:http2";
import { ScimError } from "./scim-error.js";

/** A SCIM request, over HTTP/1.1 or HTTP/2. */
export type ScimRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** Its response. */
export type ScimResponse = http.ServerResponse | http2.Http2ServerResponse;

/** The named request headers, as one Headers. */
export function headersOf(req: ScimRequest, names: string[]): Headers {
  const headers = new Headers();
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === "string") headers.set(name, value);
  }
  return headers;
}

/** What a SCIM request is answered with. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** 200 with `body`. */
export function ok(body: unknown, headers: Record<string, string> = {}): Answer {
  return { status: 200, body, headers };
}

/** The etag of an If-Match header (`W/"x"` or `"x"`), or "" for none or `*`. */
export function ifMatch(req: ScimRequest): string {
  const header = req.headers["if-match"];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value || value === "*") return "";
  return value.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/** The JSON body of a request of at most `maxBytes`. */
export async function readJson(req: ScimRequest, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new ScimError(413, `the request is larger than ${maxBytes} bytes`, "tooMany");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ScimError(400, "the request body is not JSON", "invalidSyntax");
  }
}
