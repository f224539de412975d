import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { projectRoot } from "../../server/runtime/paths.js";
import type { TestServer } from "./server.js";

/**
 * The proto files loaded by @grpc/proto-loader, the way a team that never saw
 * Roster's code would call it: field names as in the .proto files (keepCase),
 * enums as names, 64-bit integers as strings.
 */
const definition = protoLoader.loadSync(
  [
    "roster/v1/user_registry.proto",
    "roster/v1/user_access.proto",
    "roster/v1/invitation_registry.proto",
    "roster/v1/user_settings.proto",
    "roster/v1/user_agreements.proto",
    "roster/v1/user_bulk.proto",
    "roster/v1/events.proto",
    "roster/v1/webhooks.proto",
    "roster/v1/self_service.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
  ],
  {
    includeDirs: [join(projectRoot, "proto")],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  },
);
const loaded = grpc.loadPackageDefinition(definition);

function serviceConstructor(fullName: string): grpc.ServiceClientConstructor {
  let node: unknown = loaded;
  for (const part of fullName.split(".")) node = (node as Record<string, unknown>)[part];
  if (typeof node !== "function") throw new Error(`no service ${fullName}`);
  return node as grpc.ServiceClientConstructor;
}

/** An error from a grpc-js call, with Roster's ErrorInfo reason decoded. */
export interface GrpcError extends Error {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
  reason?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: proto-loader messages are untyped.
export type Message = Record<string, any>;

export interface GrpcClient {
  call(method: string, request: Message, options?: { deadlineMs?: number; key?: string }): Promise<Message>;
  /** Call and also return the response headers. */
  callWithHeaders(
    method: string,
    request: Message,
    options?: { key?: string },
  ): Promise<{ response: Message; headers: grpc.Metadata }>;
  raw: grpc.Client;
  close(): void;
}

function decorate(err: grpc.ServiceError): GrpcError {
  const e = err as unknown as GrpcError;
  const bin = err.metadata?.get("grpc-status-details-bin")?.[0];
  if (bin instanceof Buffer) {
    const status = fromBinary(StatusSchema, bin);
    for (const any of status.details) {
      const info = anyUnpack(any, ErrorInfoSchema);
      if (info) e.reason = info.reason;
    }
  }
  return e;
}

/** A grpc-js client of `service` (such as `roster.v1.UserRegistry`) on the test server. */
export function grpcClient(server: TestServer, service: string, key?: string): GrpcClient {
  const Client = serviceConstructor(service);
  const client = new Client(server.address, grpc.credentials.createInsecure());
  const metadataFor = (k: string | undefined) => {
    const md = new grpc.Metadata();
    if (k) md.set("authorization", `Bearer ${k}`);
    return md;
  };
  const invoke = (method: string, request: Message, options: { deadlineMs?: number; key?: string } = {}) =>
    new Promise<{ response: Message; headers: grpc.Metadata }>((resolve, reject) => {
      const fn = (client as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)[method];
      if (!fn) throw new Error(`no method ${service}/${method}`);
      let headers = new grpc.Metadata();
      const call = fn.call(
        client,
        request,
        metadataFor(options.key ?? key),
        { deadline: Date.now() + (options.deadlineMs ?? 30_000) },
        (err: grpc.ServiceError | null, response: Message) =>
          err ? reject(decorate(err)) : resolve({ response, headers }),
      );
      call.on("metadata", (md) => {
        headers = md;
      });
    });
  return {
    call: async (method, request, options) => (await invoke(method, request, options)).response,
    callWithHeaders: invoke,
    raw: client,
    close: () => client.close(),
  };
}

/** The response of a Connect JSON call made with plain fetch. */
export interface ConnectResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies.
  body: any;
}

/** POST a Connect-protocol JSON request with fetch, as curl or a browser would. */
export async function connectJson(
  server: TestServer,
  procedure: string,
  body: unknown,
  options: { key?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ConnectResponse> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "connect-protocol-version": "1",
    ...options.headers,
  };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const res = await fetch(`${server.url}/${procedure}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: options.signal,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** The ErrorInfo reason of a Connect JSON error body. */
export function connectReason(body: { details?: { type: string; debug?: { reason?: string } }[] }): string | undefined {
  return body.details?.find((d) => d.type === "google.rpc.ErrorInfo")?.debug?.reason;
}

export { grpc };

/** Assert that a grpc-js call fails with `code` (and ErrorInfo `reason`, if given). */
export async function rejectsWith(call: Promise<unknown>, code: grpc.status, reason?: string): Promise<GrpcError> {
  try {
    await call;
  } catch (err) {
    const e = err as GrpcError;
    if (e.code !== code) {
      throw new Error(`expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    }
    if (reason !== undefined && e.reason !== reason) {
      throw new Error(`expected reason ${reason}, got ${e.reason}: ${e.details}`);
    }
    return e;
  }
  throw new Error(`expected ${grpc.status[code]}, but the call succeeded`);
}

/** The gRPC clients a test opens as it goes, closed together when it ends. */
export class ClientPool {
  private readonly opened: GrpcClient[] = [];

  open(server: TestServer, service: string, key?: string): GrpcClient {
    const client = grpcClient(server, service, key);
    this.opened.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.opened.splice(0)) client.close();
  }
}
