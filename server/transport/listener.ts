import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** One plaintext port for HTTP/1.1 and h2c, told apart by the HTTP/2 preface. */
export interface Listener {
  /** The bound address, `host:port`. */
  readonly address: string;
  /** Number of requests being served. */
  readonly inFlight: number;
  /**
   * Stop accepting connections, let in-flight requests finish (HTTP/2
   * sessions get a GOAWAY, idle HTTP/1.1 connections are closed) for up to
   * `timeoutMs`, then call `abortCalls` so that those still running are
   * answered, give the answers a moment to leave, and destroy what is left.
   */
  close(timeoutMs: number, abortCalls: () => void): Promise<void>;
}

/** How long answers to aborted calls have to reach their clients before connections are destroyed. */
const flushMs = 1000;

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface ListenOptions {
  /**
   * Close a connection that is idle this long: one that has not finished
   * its first bytes (the HTTP/2 preface, or an HTTP/1.1 request's headers),
   * or an HTTP/2 connection without an open stream. Calls in flight, even
   * silent ones such as a health Watch, never count as idle. HTTP/1.1
   * connections between requests are closed sooner, after 5 s.
   */
  idleTimeoutMs: number;
}

/**
 * Listen on `host:port`. Node serves h2c and HTTP/1.1 only on separate
 * servers; this peeks at the first bytes of each connection and hands it to
 * the right one, so gRPC clients (HTTP/2 with prior knowledge) and browsers
 * or curl (HTTP/1.1) share the port.
 */
export async function listen(hostPort: string, handler: Handler, options: ListenOptions): Promise<Listener> {
  const idle = options.idleTimeoutMs;
  let inFlight = 0;
  const counted: Handler = (req, res) => {
    inFlight++;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.once("close", finish);
    res.once("finish", finish);
    handler(req, res);
  };
  const h1 = http.createServer(
    {
      keepAliveTimeout: Math.min(5000, idle),
      headersTimeout: idle,
      requestTimeout: Math.max(300_000, idle),
      // How often Node looks for connections past those limits (default 30 s).
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(idle / 4))),
    },
    counted,
  );
  // Node enforces headersTimeout and requestTimeout only on servers that
  // listen (it starts its connection checks on 'listening'); this one gets
  // its connections from the sniffer below.
  h1.emit("listening");
  const h2 = http2.createServer({}, counted);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    // Node's own session timeout counts silence, also while a stream waits
    // for news; idle here means no open stream.
    let open = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        session.close();
        // A peer that never reads may keep a closing session; not for long.
        setTimeout(() => session.destroy(), 1000).unref();
      }, idle);
      timer.unref();
    };
    arm();
    session.on("stream", (stream) => {
      open++;
      clearTimeout(timer);
      stream.once("close", () => {
        if (--open === 0 && !session.closed) arm();
      });
    });
    session.once("close", () => {
      clearTimeout(timer);
      sessions.delete(session);
    });
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // Until it says which protocol it speaks, a connection is idle.
    socket.setTimeout(idle, () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, preface.length);
      const isH2 = head.subarray(0, n).equals(preface.subarray(0, n));
      if (isH2 && head.length < preface.length) return; // need more bytes to be sure
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      if (isH2) {
        // The HTTP/2 session drains what is buffered and then reads the
        // socket's handle natively; resuming here would steal its data.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });

  const [host, port] = splitHostPort(hostPort);
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen({ host, port }, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const bound = tcp.address() as net.AddressInfo;
  const address = `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`;

  return {
    address,
    get inFlight() {
      return inFlight;
    },
    async close(timeoutMs, abortCalls) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      const drain = async (ms: number) => {
        const deadline = Date.now() + ms;
        while (inFlight > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 25));
          h1.closeIdleConnections();
        }
      };
      await drain(timeoutMs);
      if (inFlight > 0) {
        abortCalls();
        await drain(flushMs);
      }
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return [host || "0.0.0.0", Number(hostPort.slice(i + 1))];
}
