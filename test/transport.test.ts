import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetUserRequestSchema, GetUserResponseSchema } from "../gen/roster/v1/user_registry_pb.js";
import { connectJson, connectReason, grpc, grpcClient, type Message } from "./support/clients.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

describe("transport", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ args: ["--max-request-bytes", "65536"] });
  });
  after(async () => {
    await server.stop();
  });

  it("serves gRPC over h2c to @grpc/grpc-js on the same port as Connect", async () => {
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    const created = await users.call("Create", {
      user: { user_id: "grpc-user", primary_email_address: "grpc@example.com", name: "Via gRPC" },
    });
    assert.equal(created.user.user_id, "grpc-user");
    assert.equal(created.user.state, "STATE_APPROVED");
    const got = await users.call("Get", { user_id: "grpc-user", field_mask: { paths: ["name"] } });
    assert.equal(got.user.name, "Via gRPC");
    users.close();
  });

  it("serves the Connect protocol with JSON over HTTP/1.1 to plain fetch", async () => {
    const created = await connectJson(
      server,
      "roster.v1.UserRegistry/Create",
      { user: { userId: "connect-user", primaryEmailAddress: "connect@example.com", name: "Via Connect" } },
      { key: server.adminKey },
    );
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const got = await connectJson(
      server,
      "roster.v1.UserRegistry/Get",
      { userId: "connect-user", fieldMask: "name,primaryEmailAddress" },
      { key: server.adminKey },
    );
    assert.equal(got.status, 200);
    assert.equal(got.body.user.name, "Via Connect");
    assert.equal(got.body.user.primaryEmailAddress, "connect@example.com");
  });

  it("serves the Connect protocol over h2c too", async () => {
    const session = http2.connect(server.url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/roster.v1.UserRegistry/GetCurrent",
          "content-type": "application/json",
          authorization: `Bearer ${server.adminKey}`,
        });
        let text = "";
        req.on("data", (d) => (text += d));
        req.on("end", () => resolve(text));
        req.on("error", reject);
        req.end("{}");
      });
      assert.equal(JSON.parse(body).user.userId, "admin");
    } finally {
      session.close();
    }
  });

  it("serves gRPC-Web (binary) over HTTP/1.1", async () => {
    const message = toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { userId: "admin" }));
    const frame = new Uint8Array(5 + message.length);
    new DataView(frame.buffer).setUint32(1, message.length);
    frame.set(message, 5);
    const res = await fetch(`${server.url}/roster.v1.UserRegistry/Get`, {
      method: "POST",
      headers: {
        "content-type": "application/grpc-web+proto",
        "x-grpc-web": "1",
        authorization: `Bearer ${server.adminKey}`,
      },
      body: frame,
    });
    assert.equal(res.status, 200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(bytes[0], 0, "first frame is a message");
    const length = new DataView(bytes.buffer).getUint32(1);
    const response = fromBinary(GetUserResponseSchema, bytes.subarray(5, 5 + length));
    assert.equal(response.user?.userId, "admin");
    const trailer = new TextDecoder().decode(bytes.subarray(5 + length + 5));
    assert.match(trailer, /grpc-status:\s*0/);
  });

  it("answers CORS preflights and exposes the total-count header to browsers", async () => {
    const res = await fetch(`${server.url}/roster.v1.UserRegistry/List`, {
      method: "OPTIONS",
      headers: {
        origin: "https://console.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,connect-protocol-version",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
    const list = await connectJson(
      server,
      "roster.v1.UserRegistry/List",
      {},
      { key: server.adminKey, headers: { origin: "https://console.example.com" } },
    );
    assert.match(list.headers.get("access-control-expose-headers") ?? "", /x-total-count/);
  });

  it("reports SERVING on grpc.health.v1 Check and Watch once ready", async () => {
    const health = grpcClient(server, "grpc.health.v1.Health");
    assert.equal((await health.call("Check", { service: "" })).status, "SERVING");
    assert.equal((await health.call("Check", { service: "roster.v1.UserRegistry" })).status, "SERVING");
    await assert.rejects(health.call("Check", { service: "no.such.Service" }), (err: { code: number }) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      return true;
    });
    const first = await new Promise<{ status: string }>((resolve, reject) => {
      const stream = (
        health.raw as unknown as { Watch: (r: unknown) => grpc.ClientReadableStream<{ status: string }> }
      ).Watch({
        service: "",
      });
      stream.once("data", (msg) => {
        resolve(msg);
        stream.cancel();
      });
      stream.once("error", (err: grpc.ServiceError) => {
        if (err.code !== grpc.status.CANCELLED) reject(err);
      });
    });
    assert.equal(first.status, "SERVING");
    health.close();
    const healthz = await fetch(`${server.url}/healthz`);
    assert.equal(healthz.status, 200);
  });

  for (const version of ["v1", "v1alpha"]) {
    it(`answers gRPC server reflection ${version}: list services and describe them without proto files`, async () => {
      const reflection = grpcClient(server, `grpc.reflection.${version}.ServerReflection`);
      const stream = (
        reflection.raw as unknown as {
          ServerReflectionInfo: () => grpc.ClientDuplexStream<unknown, Message>;
        }
      ).ServerReflectionInfo();
      const responses: Message[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on("data", (r) => responses.push(r));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      stream.write({ list_services: "" });
      stream.write({ file_containing_symbol: "roster.v1.UserRegistry" });
      stream.write({ file_containing_symbol: "roster.v1.UserRegistry.Purge" });
      stream.write({ file_by_filename: "roster/v1/user.proto" });
      stream.write({ file_containing_symbol: "no.such.Thing" });
      stream.end();
      await done;
      const services: string[] = responses[0]?.list_services_response.service.map((s: { name: string }) => s.name);
      for (const name of [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "roster.v1.InvitationRegistry",
        "roster.v1.UserAccess",
        "roster.v1.UserRegistry",
      ]) {
        assert.ok(services.includes(name), `${name} is listed`);
      }
      for (const r of responses.slice(1, 4)) {
        assert.ok(r.file_descriptor_response.file_descriptor_proto.length >= 1, JSON.stringify(r));
      }
      // The file with the service comes with its imports, comments included.
      const files = responses[1]?.file_descriptor_response.file_descriptor_proto.map((b: Buffer) =>
        b.toString("latin1"),
      );
      assert.ok(files.some((f: string) => f.includes("roster/v1/user_registry.proto") && f.includes("Create a user")));
      assert.ok(files.some((f: string) => f.includes("google/protobuf/field_mask.proto")));
      assert.equal(responses[4]?.error_response.error_code, 5);
      reflection.close();
    });
  }

  it("refuses requests over the size limit with RESOURCE_EXHAUSTED", async () => {
    const big = "x".repeat(70_000);
    const res = await connectJson(
      server,
      "roster.v1.UserRegistry/Update",
      { user: { userId: "admin", description: big }, updateMask: "description" },
      { key: server.adminKey },
    );
    assert.equal(res.body.code, "resource_exhausted", JSON.stringify(res.body).slice(0, 300));
  });

  it("enforces the client's deadline and refuses deadlines above the maximum", async () => {
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    await assert.rejects(users.call("List", { limit: 1000 }, { deadlineMs: 1 }), (err: { code: number }) => {
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      return true;
    });
    users.close();
    const res = await connectJson(
      server,
      "roster.v1.UserRegistry/GetCurrent",
      {},
      {
        key: server.adminKey,
        headers: { "connect-timeout-ms": String(10 * 60_000) },
      },
    );
    assert.equal(res.body.code, "invalid_argument");
  });

  it("answers UNAUTHENTICATED, with one message, to missing and bad credentials", async () => {
    const none = await connectJson(server, "roster.v1.UserRegistry/GetCurrent", {});
    assert.equal(none.status, 401);
    assert.equal(connectReason(none.body), "UNAUTHENTICATED");
    const forged = await connectJson(
      server,
      "roster.v1.UserRegistry/GetCurrent",
      {},
      {
        key: `rst_ak_${"A".repeat(38)}`,
      },
    );
    assert.equal(forged.status, 401);
    assert.equal(forged.body.message, none.body.message);
  });

  it("ignores credentials on public methods, so a stale key cannot break health checks or logging in", async () => {
    const stale = `rst_ak_${"B".repeat(38)}`;
    const health = grpcClient(server, "grpc.health.v1.Health", stale);
    assert.equal((await health.call("Check", { service: "" })).status, "SERVING");
    health.close();
    await createUser(server, { userId: "stale-key-holder", password: "a fine passphrase" });
    const login = await connectJson(
      server,
      "roster.v1.UserAccess/Authenticate",
      { userIdOrEmail: "stale-key-holder", password: "a fine passphrase" },
      { key: stale },
    );
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.userId, "stale-key-holder");
    const current = await connectJson(server, "roster.v1.UserRegistry/GetCurrent", {}, { key: stale });
    assert.equal(current.status, 401, "other methods still refuse it");
  });

  it("serves nothing outside the console folder, whatever the path says", async () => {
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: Number(server.address.split(":")[1]), path }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject);
      });
    assert.equal(await get("/console/%2e%2e/%2e%2e/package.json"), 404);
    assert.equal(await get("/console/..%2f..%2fpackage.json"), 404);
    assert.equal(await get("/console/no-such-file.js"), 404);
    assert.equal(await get("/console"), 301);
  });

  it("serves Prometheus metrics", async () => {
    const res = await fetch(`${server.url}/metrics`);
    const text = await res.text();
    assert.match(text, /roster_rpc_calls_total\{method="roster.v1.UserRegistry\/Get",code="ok"\} \d+/);
  });
});
