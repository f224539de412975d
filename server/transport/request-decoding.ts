import { type DescMessage, fromBinary, fromJson, type JsonReadOptions, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  type Compression,
  compressedFlag,
  createAsyncIterable,
  type EnvelopedMessage,
  pipe,
  readAllBytes,
  transformJoinEnvelopes,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
} from "@connectrpc/connect/protocol";
import { parseContentType as connectContentType } from "@connectrpc/connect/protocol-connect";
import { parseContentType as grpcContentType } from "@connectrpc/connect/protocol-grpc";
import { parseContentType as grpcWebContentType } from "@connectrpc/connect/protocol-grpc-web";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { invalidArgument } from "../../shared/errors.js";
import { inheritedKeyViolations } from "./map-keys.js";

/** The compressions connect-node accepts by default, which the server keeps. */
export const acceptCompression: Compression[] = [compressionGzip, compressionBrotli];

/** A request refused here, before connect and the interceptors saw it. */
export interface RefusedRequest {
  /** `roster.v1.UserRegistry/Get` */
  method: string;
  /** The request's content type. */
  protocol: string | null;
  error: ConnectError;
  ms: number;
}

export interface RequestDecodingOptions {
  readMaxBytes: number;
  jsonOptions: Partial<JsonReadOptions>;
  /** Told of every refused request, so that it is logged and counted like the others. */
  onRefused: (refused: RefusedRequest) => void;
}

/** How a request's messages travel, from its content type; undefined for what connect refuses anyway. */
function wireFormat(contentType: string | null): { enveloped: boolean; binary: boolean; encoding: string } | undefined {
  const grpcWeb = grpcWebContentType(contentType);
  if (grpcWeb) return grpcWeb.text ? undefined : { enveloped: true, binary: grpcWeb.binary, encoding: "grpc-encoding" };
  const grpc = grpcContentType(contentType);
  if (grpc) return { enveloped: true, binary: grpc.binary, encoding: "grpc-encoding" };
  const connect = connectContentType(contentType);
  if (connect?.stream) return { enveloped: true, binary: connect.binary, encoding: "connect-content-encoding" };
  if (connect) return { enveloped: false, binary: connect.binary, encoding: "content-encoding" };
  return undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decode one request message, as connect is about to, and refuse it if it
 * cannot be decoded or uses a map key a decoder would drop.
 */
function decodeProblem(
  schema: DescMessage,
  data: Uint8Array,
  binary: boolean,
  jsonOptions: Partial<JsonReadOptions>,
): ConnectError | undefined {
  try {
    if (binary) {
      fromBinary(schema, data);
      const violations = inheritedKeyViolations(schema, { binary: data });
      return violations.length > 0 ? invalidArgument(violations) : undefined;
    }
    const json = JSON.parse(utf8.decode(data)) as JsonValue;
    fromJson(schema, json, jsonOptions);
    const violations = inheritedKeyViolations(schema, { json });
    return violations.length > 0 ? invalidArgument(violations) : undefined;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return new ConnectError(
      `cannot decode the request as ${schema.typeName} (${binary ? "protobuf" : "JSON"}): ${reason}`,
      Code.InvalidArgument,
    );
  }
}

/**
 * Wrap a universal handler so that request messages are decoded before
 * connect decodes them. connect-es 2 answers a protobuf message it cannot
 * decode with INTERNAL (`parse binary: ...`, from its binary serialization,
 * used by all three protocols) and does so before any interceptor runs, so
 * the call is neither logged nor counted; a map entry keyed `__proto__` is
 * silently dropped by the decoder. Here such requests become
 * INVALID_ARGUMENT, reported to `onRefused`, and travel on as an error of
 * the request body, which connect answers in the caller's protocol.
 * Everything else is handed on byte for byte.
 */
function decodingHandler(handler: UniversalHandler, options: RequestDecodingOptions): UniversalHandler {
  const schema = handler.method.input;
  const method = `${handler.service.typeName}/${handler.method.name}`;
  // Streaming methods read their requests inside the interceptors, which
  // log and count what fails there; unary ones before them.
  const reportsItself = handler.method.methodKind === "unary";
  const decoding = async (req: UniversalServerRequest) => {
    const started = performance.now();
    const contentType = req.header.get("content-type");
    const wire = wireFormat(contentType);
    const body = req.body;
    if (!wire || body === null || typeof body !== "object" || !(Symbol.asyncIterator in body)) return handler(req);
    const encoding = req.header.get(wire.encoding);
    const compression =
      encoding && encoding !== "identity" ? acceptCompression.find((c) => c.name === encoding) : undefined;
    // An unknown compression is connect's to refuse.
    if (encoding && encoding !== "identity" && !compression) return handler(req);
    const refuse = (err: unknown) => {
      const error = ConnectError.from(err, Code.InvalidArgument);
      if (reportsItself) options.onRefused({ method, protocol: contentType, error, ms: performance.now() - started });
      return error;
    };
    const inspect = async (data: Uint8Array, compressed: boolean) => {
      let plain = data;
      try {
        if (compressed && compression) plain = await compression.decompress(data, options.readMaxBytes);
      } catch (err) {
        return ConnectError.from(err, Code.InvalidArgument);
      }
      return decodeProblem(schema, plain, wire.binary, options.jsonOptions);
    };
    if (!wire.enveloped) {
      let bytes: Uint8Array;
      try {
        bytes = await readAllBytes(
          body as AsyncIterable<Uint8Array>,
          options.readMaxBytes,
          req.header.get("content-length"),
        );
      } catch (err) {
        return handler({ ...req, body: failing(refuse(err)) });
      }
      const problem = await inspect(bytes, compression !== undefined);
      return handler({ ...req, body: problem ? failing(refuse(problem)) : createAsyncIterable([bytes]) });
    }
    return handler({
      ...req,
      body: pipe(
        body as AsyncIterable<Uint8Array>,
        transformSplitEnvelope(options.readMaxBytes),
        async function* (envelopes: AsyncIterable<EnvelopedMessage>) {
          let problem: ConnectError | undefined;
          try {
            for await (const envelope of envelopes) {
              problem = await inspect(envelope.data, (envelope.flags & compressedFlag) === compressedFlag);
              if (problem) break;
              yield envelope;
            }
          } catch (err) {
            // A body too large or cut short is refused too.
            throw refuse(err);
          }
          if (problem) throw refuse(problem);
        },
        transformJoinEnvelopes(),
      ),
    });
  };
  return Object.assign(decoding, handler);
}

/** A request body that fails when connect reads it, so that connect answers with `error`. */
function failing(error: ConnectError): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

/**
 * Routes whose handlers decode requests first (see decodingHandler). The
 * router's handler list is public and read by the adapter after `routes`
 * returns, which is where the handlers are wrapped.
 */
export function withRequestDecoding(
  routes: (router: ConnectRouter) => void,
  options: RequestDecodingOptions,
): (router: ConnectRouter) => void {
  return (router) => {
    routes(router);
    const handlers = router.handlers as UniversalHandler[];
    handlers.splice(0, handlers.length, ...handlers.map((h) => decodingHandler(h, options)));
  };
}
