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
   * sessions get a GOAWAY, idle HTTP/1.1 connections are closed), and
   * destroy what is left after `timeoutMs`.
   */
  close(timeoutMs: number): Promise<void>;
}

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Listen on `host:port`. Node serves h2c and HTTP/1.1 only on separate
 * servers; this peeks at the first bytes of each connection and hands it to
 * the right one, so gRPC clients (HTTP/2 with prior knowledge) and browsers
 * or curl (HTTP/1.1) share the port.
 */
export async function listen(hostPort: string, handler: Handler): Promise<Listener> {
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
  const h1 = http.createServer({ keepAliveTimeout: 5000 }, counted);
  const h2 = http2.createServer({}, counted);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, preface.length);
      const isH2 = head.subarray(0, n).equals(preface.subarray(0, n));
      if (isH2 && head.length < preface.length) return; // need more bytes to be sure
      socket.off("data", onData);
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
    async close(timeoutMs) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        h1.closeIdleConnections();
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
