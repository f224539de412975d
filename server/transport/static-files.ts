import { readFile } from "node:fs/promises";
import type http from "node:http";
import type http2 from "node:http2";
import { extname, join, normalize, sep } from "node:path";

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".map": "application/json",
};

/**
 * Serve the files of `root` under `prefix` (the web console): GET and HEAD
 * only, no directory listings, nothing outside `root`, `index.html` for the
 * prefix itself. Returns false when the request is not for `prefix`.
 */
export function serveStatic(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  prefix: string,
  root: string,
): boolean {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (path !== prefix && !path.startsWith(`${prefix}/`)) return false;
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  if (path === prefix) {
    res.writeHead(301, { location: `${prefix}/` });
    res.end();
    return true;
  }
  let relative = decodeURIComponent(path.slice(prefix.length + 1)) || "index.html";
  if (relative.endsWith("/")) relative += "index.html";
  const file = normalize(join(root, relative));
  const type = types[extname(file)];
  if (!file.startsWith(root + sep) || !type) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
    return true;
  }
  sendFile(req, res, file, type);
  return true;
}

/** Send one file with the console's headers (type, no caching without revalidation, CSP); 404 if unreadable. */
export function sendFile(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  file: string,
  type: string,
): void {
  readFile(file).then(
    (body) => {
      res.writeHead(200, {
        "content-type": type,
        "content-length": body.length,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        // The console talks to this server only and runs no inline script.
        "content-security-policy":
          "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        // The self-service pages carry tokens in their fragment; no Referer leaks the path either.
        "referrer-policy": "no-referrer",
      });
      if (req.method === "HEAD") res.end();
      else res.end(body);
    },
    () => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    },
  );
}
