import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ensureGrpcurl } from "./support/grpcurl.js";
import { startServer, type TestServer } from "./support/server.js";

const run = promisify(execFile);

describe("grpcurl, a client that has no proto files", () => {
  let server: TestServer;
  let grpcurl: string;
  const call = async (...args: string[]) => (await run(grpcurl, ["-plaintext", ...args], { timeout: 30_000 })).stdout;
  const auth = () => ["-H", `authorization: Bearer ${server.adminKey}`];

  before(async () => {
    [server, grpcurl] = await Promise.all([startServer(), ensureGrpcurl()]);
  });
  after(async () => {
    await server.stop();
  });

  it("lists the services through reflection", async () => {
    const out = await call(server.address, "list");
    for (const service of [
      "roster.v1.UserRegistry",
      "roster.v1.UserAccess",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]) {
      assert.match(out, new RegExp(`^${service.replace(/\./g, "\\.")}$`, "m"));
    }
  });

  it("describes methods and messages with their comments", async () => {
    const out = await call(server.address, "describe", "roster.v1.UserRegistry.Purge");
    assert.match(out, /Remove a user for good and free its id/);
    const message = await call(server.address, "describe", "roster.v1.User");
    assert.match(message, /string primary_email_address = 4 \[/);
  });

  it("creates and reads a user, as the README shows", async () => {
    const created = JSON.parse(
      await call(
        ...auth(),
        "-d",
        '{"user": {"user_id": "grace", "name": "Grace Hopper", "primary_email_address": "grace@example.com"}}',
        server.address,
        "roster.v1.UserRegistry/Create",
      ),
    );
    assert.equal(created.user.userId, "grace");
    const got = JSON.parse(
      await call(
        ...auth(),
        "-d",
        '{"user_id": "grace", "field_mask": {"paths": ["name", "state"]}}',
        server.address,
        "roster.v1.UserRegistry/Get",
      ),
    );
    assert.deepEqual([got.user.name, got.user.state], ["Grace Hopper", "STATE_APPROVED"]);
  });

  it("checks health", async () => {
    assert.match(await call(server.address, "grpc.health.v1.Health/Check"), /"status": "SERVING"/);
  });

  it("shows error details from the server", async () => {
    await assert.rejects(
      call(...auth(), "-d", '{"user_id": "nobody"}', server.address, "roster.v1.UserRegistry/Get"),
      (err: { stdout: string; stderr: string }) => {
        const text = err.stdout + err.stderr;
        assert.match(text, /NotFound/);
        assert.match(text, /user nobody not found/);
        assert.match(text, /USER_NOT_FOUND/);
        return true;
      },
    );
  });
});
