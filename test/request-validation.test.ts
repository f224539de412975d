import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { logLines, startServer, type TestServer } from "./support/server.js";

describe("request validation", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  describe("client mistakes are INVALID_ARGUMENT, never INTERNAL (finding 8)", () => {
    it("answers an undecodable protobuf request with INVALID_ARGUMENT in every protocol, and logs and counts it", async () => {
      const garbage = new Uint8Array([0x0a, 0xff, 0xff]);
      const res = await fetch(`${server.url}/roster.v1.UserRegistry/Get`, {
        method: "POST",
        headers: { "content-type": "application/proto", authorization: `Bearer ${server.adminKey}` },
        body: garbage,
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");

      const client = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
      const viaGrpc = new Promise((resolve, reject) =>
        client.raw.makeUnaryRequest(
          "/roster.v1.UserRegistry/GetCurrent",
          () => Buffer.from(garbage),
          (b: Buffer) => b,
          {},
          (err: grpc.ServiceError | null, value?: Buffer) => (err ? reject(err) : resolve(value)),
        ),
      );
      await rejectsWith(viaGrpc, grpc.status.INVALID_ARGUMENT);
      client.close();

      const lines = await logLines(
        server,
        (l) => l.msg === "rpc" && l.method === "roster.v1.UserRegistry/Get" && l.code === "InvalidArgument",
      );
      assert.equal(lines.length, 1, "the refused call is logged");
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /roster_rpc_calls_total\{method="roster.v1.UserRegistry\/Get",code="InvalidArgument"\} 1/);
      assert.match(
        metrics,
        /roster_rpc_calls_total\{method="roster.v1.UserRegistry\/GetCurrent",code="InvalidArgument"\} 1/,
      );
    });
  });
});
