import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ferretdbBinaryPath } from "../server/database/ferretdb-build.js";
import { projectRoot } from "../server/runtime/paths.js";
import { grpc, grpcClient } from "./support/clients.js";
import { startServer } from "./support/server.js";

/** Open a raw connection, send `bytes`, and resolve with when it was closed by the server (ms after connecting). */
function closedAfter(address: string, bytes: Buffer, waitMs: number): Promise<number | undefined> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    Number(address.slice(address.lastIndexOf(":") + 1)),
  ];
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host, port }, () => {
      if (bytes.length > 0) socket.write(bytes);
    });
    socket.on("data", () => {});
    socket.on("error", () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, waitMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** A TCP proxy in front of the server. */
interface SlowNetwork {
  /** host:port to connect to instead of the server's. */
  address: string;
  /** Pass on nothing the server sends from now on: an HTTP/2 stream soon waits on flow control. */
  hold(): void;
  /** Pass on what was held back, and all that follows. */
  release(): void;
  close(): void;
}

async function slowNetwork(address: string): Promise<SlowNetwork> {
  const i = address.lastIndexOf(":");
  // What the server sent (null: it closed) and the proxy has not passed on yet.
  const connections = new Set<{ client: net.Socket; held: (Buffer | null)[] }>();
  let holding = false;
  const pass = (client: net.Socket, chunk: Buffer | null) => (chunk ? client.write(chunk) : client.end());
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const connection = { client, held: [] as (Buffer | null)[] };
    connections.add(connection);
    const forward = (chunk: Buffer | null) => (holding ? connection.held.push(chunk) : pass(client, chunk));
    client.pipe(upstream);
    upstream.on("data", forward);
    upstream.on("end", () => forward(null));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.once("close", () => connections.delete(connection));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const c of connections) for (const chunk of c.held.splice(0)) pass(c.client, chunk);
    },
    close() {
      proxy.close();
      for (const c of connections) c.client.destroy();
    },
  };
}

const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** An empty SETTINGS frame: what an HTTP/2 client sends right after the preface. */
const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

describe("connection life cycle", () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const c of cleanups) c();
  });

  it("closes idle and half-open connections after the idle timeout, but not calls in flight (finding 12)", async () => {
    const server = await startServer({ env: { ROSTER_IDLE_TIMEOUT: "1s" } });
    const health = grpcClient(server, "grpc.health.v1.Health");
    let watchEnded = false;
    const watch = (
      health.raw as unknown as { Watch: (r: unknown) => grpc.ClientReadableStream<{ status: string }> }
    ).Watch({ service: "" });
    watch.on("data", () => {});
    watch.on("error", () => {
      watchEnded = true;
    });
    watch.on("end", () => {
      watchEnded = true;
    });

    const cases: Record<string, Buffer> = {
      "sends nothing": Buffer.alloc(0),
      "sends half an HTTP/2 preface": h2Preface.subarray(0, 12),
      "opens HTTP/2 and starts no call": Buffer.concat([h2Preface, emptySettings]),
      "sends half an HTTP/1.1 request": Buffer.from("POST /roster.v1.UserRegistry/Get HTTP/1.1\r\nHost: x\r\n"),
    };
    const closed = await Promise.all(Object.values(cases).map((bytes) => closedAfter(server.address, bytes, 6000)));
    Object.keys(cases).forEach((name, i) => {
      const ms = closed[i];
      assert.ok(ms !== undefined && ms >= 900 && ms < 5000, `a connection that ${name} was closed after ${ms} ms`);
    });
    assert.equal(watchEnded, false, "a health Watch that waits for news is not idle");
    watch.cancel();
    health.close();
    await server.stop();
  });

  it("ends a streaming export with UNAVAILABLE at SIGTERM instead of resetting it, and exits in time (finding 13)", async () => {
    const server = await startServer({ args: ["--shutdown-timeout", "4s"] });
    // More than an HTTP/2 flow-control window (64 KiB) of export.
    const bulk = grpcClient(server, "roster.v1.UserBulk", server.adminKey);
    const rows = Array.from({ length: 400 }, (_, i) => ({
      user: {
        user_id: `streamed-${i}`,
        primary_email_address: `streamed-${i}@example.com`,
        // Random, so that compression does not shrink the export to nothing.
        description: randomBytes(1500).toString("base64"),
      },
    }));
    await bulk.call("Import", { users: rows });
    // The export's client is behind a slow network: at SIGTERM the server
    // waits on flow control, not on the database, and ending the stream from
    // that state once crashed the server (an unhandled rejection).
    const network = await slowNetwork(server.address);
    cleanups.push(() => network.close());
    const exporter = grpcClient({ ...server, address: network.address }, "roster.v1.UserBulk");
    const stream = (
      exporter.raw as unknown as { Export: (r: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<unknown> }
    ).Export(
      { batch_size: 10 },
      (() => {
        const md = new grpc.Metadata();
        md.set("authorization", `Bearer ${server.adminKey}`);
        return md;
      })(),
    );
    let received = 0;
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      stream.on("data", () => {
        received++;
      });
      stream.on("error", (err: grpc.ServiceError) => resolve(err));
      stream.on("end", () => resolve(undefined));
    });
    while (received < 2) await new Promise((r) => setTimeout(r, 10));
    network.hold();
    // Time for the server to fill the window and wait.
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    const exit = server.stop();
    await new Promise((r) => setTimeout(r, 200));
    network.release();
    const error = await ended;
    assert.ok(error, `the export was cut short (${received} messages), not completed`);
    assert.equal(error.code, grpc.status.UNAVAILABLE, error.message);
    assert.match(error.details, /shutting down/);
    // A whole export: the header message and 41 batches (the 400 users and the admin).
    assert.ok(received < 42, `${received} messages`);
    assert.equal(await exit, 0);
    assert.ok(Date.now() - started < 4000, `exited ${Date.now() - started} ms after SIGTERM`);
    bulk.close();
    exporter.close();
  });

  it("exits within --shutdown-timeout even when its database does not answer, answering calls in flight (finding 13)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roster-stopped-db-"));
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const db: ChildProcess = spawn(ferretdbBinaryPath(process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache")), [
      "--handler=sqlite",
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      "--debug-addr=-",
      "--telemetry=disable",
      `--state-dir=${dir}`,
      "--log-level=error",
    ]);
    cleanups.push(() => {
      db.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });
    const server = await startServer({
      mongodbUri: `mongodb://127.0.0.1:${port}/roster_stopped`,
      args: ["--shutdown-timeout", "3s"],
    });
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    db.kill("SIGSTOP");
    cleanups.push(() => db.kill("SIGCONT"));
    const inFlight = users.call("GetCurrent", {}).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const code = await server.stop();
    const took = Date.now() - started;
    assert.ok(took < 4500, `exited ${took} ms after SIGTERM, with a shutdown timeout of 3 s`);
    assert.notEqual(code, null);
    const error = await inFlight;
    assert.equal(error?.code, grpc.status.UNAVAILABLE, error?.message);
    users.close();
  });
});
