import type http from "node:http";
import type http2 from "node:http2";
import { join } from "node:path";
import { cors } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { totalCountHeader } from "../requests/pagination.js";
import { minimalGrpcMessages } from "./grpc-message.js";
import type { HealthStatus } from "./health.js";
import { ServingStatus } from "./health.js";
import { sendFile, serveStatic } from "./static-files.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;
type Handler = (req: Request, res: Response) => void;

/** Response headers browsers may read, beyond the protocols' own. */
export const exposedHeaders = [...cors.exposedHeaders, totalCountHeader];

/** Request headers browsers may send, beyond the protocols' own. */
export const allowedHeaders = [...cors.allowedHeaders, "Authorization", "If-Match"];

/**
 * Wrap the RPC handler with what plain HTTP clients need: CORS for browser
 * clients on other origins, `/metrics` for Prometheus and `/healthz` for
 * load balancers that do not speak gRPC health.
 */
export function httpHandler(options: {
  rpc: Handler;
  corsOrigins: readonly string[];
  metrics: Registry;
  health: HealthStatus;
  /** Folder of the built web console, served at /console/. */
  consoleDir: string;
  /**
   * Paths of the public self-service pages (`/register`, `/reset-password`,
   * ...), each answered with `self-service.html` of `consoleDir`.
   */
  publicPages?: readonly string[];
  /** The SCIM 2.0 service, served under /scim/v2/. */
  scim?: Handler;
}): Handler {
  const anyOrigin = options.corsOrigins.includes("*");
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin && (anyOrigin || options.corsOrigins.includes(origin))) {
      res.setHeader("Access-Control-Allow-Origin", anyOrigin ? "*" : origin);
      if (!anyOrigin) res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Expose-Headers", exposedHeaders.join(", "));
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", cors.allowedMethods.join(", "));
        res.setHeader("Access-Control-Allow-Headers", allowedHeaders.join(", "));
        res.setHeader("Access-Control-Max-Age", "7200");
        res.writeHead(204);
        res.end();
        return;
      }
    }
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/metrics") {
      options.metrics.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": options.metrics.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (req.method === "GET" && path === "/healthz") {
      const serving = options.health.get("") === ServingStatus.SERVING;
      res.writeHead(serving ? 200 : 503, { "content-type": "text/plain" });
      res.end(serving ? "SERVING\n" : "NOT_SERVING\n");
      return;
    }
    const page = req.method === "GET" || req.method === "HEAD";
    if (page && path === "/") {
      res.writeHead(302, { location: "console/" });
      res.end();
      return;
    }
    if (page && path && options.publicPages?.includes(path)) {
      sendFile(req, res, join(options.consoleDir, "self-service.html"), "text/html; charset=utf-8");
      return;
    }
    if (serveStatic(req, res, "/console", options.consoleDir)) return;
    if (options.scim && (path === "/scim/v2" || path.startsWith("/scim/v2/"))) {
      options.scim(req, res);
      return;
    }
    const contentType = req.headers["content-type"] ?? "";
    if (contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web")) {
      minimalGrpcMessages(res);
    }
    options.rpc(req, res);
  };
}
