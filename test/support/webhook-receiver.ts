import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request a receiver got, and what it answered. */
export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it answered with. */
  status: number;
  at: number;
}

/**
 * A real HTTP endpoint on 127.0.0.1 for webhook tests: it keeps every
 * request and answers with what `answer` says (200 unless told otherwise).
 */
export interface WebhookReceiver {
  url: string;
  received: ReceivedDelivery[];
  /** The status to answer the next requests with. */
  answer: number;
  /** Received requests answered 2xx, by `webhook-id`. */
  accepted(): Map<string, ReceivedDelivery[]>;
  /** Wait until `predicate` holds over what was received. */
  waitFor(what: string, predicate: (received: ReceivedDelivery[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(path = "/hooks/roster"): Promise<WebhookReceiver> {
  const received: ReceivedDelivery[] = [];
  const receiver = { answer: 200 } as WebhookReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = req.url === path && req.method === "POST" ? receiver.answer : 404;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status, at: Date.now() });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "ok" : "receiver is down for the test");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    accepted() {
      const byId = new Map<string, ReceivedDelivery[]>();
      for (const r of received) {
        if (r.status >= 300) continue;
        const id = String(r.headers["webhook-id"]);
        byId.set(id, [...(byId.get(id) ?? []), r]);
      }
      return byId;
    },
    async waitFor(what: string, predicate: (r: ReceivedDelivery[]) => boolean, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error(
            `${what}: not within ${timeoutMs} ms; received ${received.length}:\n${received.map((r) => `${r.status} ${r.headers["webhook-id"]} ${r.body.slice(0, 120)}`).join("\n")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Verify a delivery with the secret, as a receiver would (the standardwebhooks library); its payload. */
export function verified(
  secret: string,
  delivery: ReceivedDelivery,
): { type: string; timestamp: string; data: Record<string, unknown> } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(delivery.headers)) if (typeof v === "string") headers[k] = v;
  return new Webhook(secret).verify(delivery.body, headers) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };
}
