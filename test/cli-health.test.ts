import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { roster } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

/** `roster health`: a unary check and a server-streaming watch, declared as two command specs. */
describe("roster health", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ args: ["--shutdown-timeout", "1s"] });
  });
  after(async () => {
    await server.stop();
  });

  it("checks the server as a whole by default, without credentials", async () => {
    const res = await roster(["health"], { server, key: null });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.json(), { status: "SERVING" });
  });

  it("checks one service with --service, and exits 4 for a service it does not know", async () => {
    const known = await roster(["health", "check", "--service", "roster.v1.UserRegistry"], { server, key: null });
    assert.deepEqual(known.json(), { status: "SERVING" });
    const unknown = await roster(["health", "check", "--service", "no.such.Service"], { server, key: null });
    assert.equal(unknown.code, 4);
    assert.match(unknown.stderr, /^error: NOT_FOUND: unknown service "no\.such\.Service"/);
  });

  it("prints a watch's responses as one JSON array that ends with the stream", async () => {
    const res = await roster(["health", "watch", "--service", "no.such.Service"], { server, key: null });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(res.json(), [{ status: "SERVICE_UNKNOWN" }]);
  });

  it("streams each change until the server ends the stream: SERVING, then NOT_SERVING on shutdown", async () => {
    let serving: () => void = () => {};
    const sawServing = new Promise<void>((resolve) => {
      serving = resolve;
    });
    const watch = roster(["health", "watch"], {
      server,
      key: null,
      onStdout: (out) => {
        if (out.includes('"SERVING"')) serving();
      },
    });
    await sawServing;
    await server.stop();
    const res = await watch;
    assert.deepEqual(
      JSON.parse(res.stdout),
      [{ status: "SERVING" }, { status: "NOT_SERVING" }],
      `the array is closed however the stream ends; stderr: ${res.stderr}`,
    );
  });
});
