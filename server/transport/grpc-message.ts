import type http from "node:http";
import type http2 from "node:http2";

/**
 * Re-encode a `grpc-message` value the way the gRPC spec asks: only bytes
 * outside printable ASCII, and `%`, are percent-encoded. connect-es encodes
 * with encodeURIComponent (`:` becomes `%3A`), and @grpc/grpc-js decodes with
 * decodeURI, which leaves `%3A`, `%2C` and the like in the message its users
 * see. Both sides accept the minimal form.
 */
export function minimalGrpcMessage(value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return value;
  }
  let out = "";
  for (const byte of Buffer.from(decoded, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

type Headers = http.OutgoingHttpHeaders | http2.OutgoingHttpHeaders;

function rewrite(headers: Headers | undefined): void {
  const value = headers?.["grpc-message"];
  if (headers && typeof value === "string") headers["grpc-message"] = minimalGrpcMessage(value);
}

/** Rewrite `grpc-message` in the headers and trailers of a gRPC response. */
export function minimalGrpcMessages(res: http.ServerResponse | http2.Http2ServerResponse): void {
  const r = res as unknown as {
    writeHead: (status: number, headers?: Headers) => unknown;
    addTrailers: (headers: Headers) => void;
  };
  const writeHead = r.writeHead.bind(res);
  const addTrailers = r.addTrailers.bind(res);
  r.writeHead = (status, headers) => {
    rewrite(headers);
    return writeHead(status, headers);
  };
  r.addTrailers = (headers) => {
    rewrite(headers);
    addTrailers(headers);
  };
}
