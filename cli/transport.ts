import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type {
  DescMessage,
  DescMethod,
  DescMethodServerStreaming,
  DescMethodUnary,
  FileRegistry,
  Message,
} from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { CliError, exitCodes } from "./errors.js";
import type { Settings } from "./settings.js";

/** The result of a unary call: the response and its headers. */
export interface CallResult {
  message: Message;
  header: Headers;
}

/** A connection to the server for one run of the CLI. */
export interface Connection {
  unary(method: DescMethod, request: Message): Promise<CallResult>;
  /** Server-streaming call: the responses as they arrive. */
  serverStream(method: DescMethod, request: Message): AsyncIterable<Message>;
  /** Let the process exit: close the HTTP/2 session or the sockets. */
  close(): void;
}

function tlsOptions(settings: Settings): { ca?: Buffer; rejectUnauthorized?: boolean } {
  if (!settings.server.startsWith("https:")) return {};
  let ca: Buffer | undefined;
  if (settings.caFile) {
    try {
      ca = readFileSync(settings.caFile);
    } catch (err) {
      throw new CliError(`cannot read the CA file: ${(err as Error).message}`, exitCodes.usage);
    }
  }
  return { ...(ca ? { ca } : {}), ...(settings.insecure ? { rejectUnauthorized: false } : {}) };
}

/** Connect to the server; connect-node is loaded here, only by commands that call. */
export async function openConnection(settings: Settings, registry: FileRegistry): Promise<Connection> {
  const { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } = await import(
    "@connectrpc/connect-node"
  );
  const tls = tlsOptions(settings);
  const common = {
    baseUrl: settings.server,
    jsonOptions: { registry },
    binaryOptions: {},
  };
  let transport: Transport;
  let close: () => void;
  if (settings.protocol === "grpc") {
    // Our own session manager, so that the session can be closed at the
    // end instead of idling for minutes and keeping the process alive.
    const sessionManager = new Http2SessionManager(settings.server, {}, tls);
    transport = createGrpcTransport({ ...common, sessionManager });
    close = () => sessionManager.abort();
  } else {
    const agent = settings.server.startsWith("https:")
      ? new https.Agent({ keepAlive: true, ...tls })
      : new http.Agent({ keepAlive: true });
    const options = { ...common, httpVersion: "1.1" as const, nodeOptions: { agent } };
    transport = settings.protocol === "grpc-web" ? createGrpcWebTransport(options) : createConnectTransport(options);
    close = () => agent.destroy();
  }
  const header = (): Record<string, string> => (settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {});
  return {
    async unary(method, request) {
      if (method.methodKind !== "unary") throw new Error(`${method.name} is not a unary method`);
      const unary = method as DescMethodUnary<DescMessage, DescMessage>;
      const response = await transport.unary(unary, undefined, settings.timeoutMs, header(), request as Message);
      return { message: response.message as Message, header: response.header };
    },
    async *serverStream(method, request) {
      if (method.methodKind !== "server_streaming") throw new Error(`${method.name} is not a server-streaming method`);
      const input = (async function* () {
        yield request;
      })();
      const response = await transport.stream(
        method as DescMethodServerStreaming<DescMessage, DescMessage>,
        undefined,
        settings.streamTimeoutMs,
        header(),
        input,
      );
      yield* response.message as AsyncIterable<Message>;
    },
    close,
  };
}
