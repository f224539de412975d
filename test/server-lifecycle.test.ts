import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { ferretdbBinaryPath } from "../server/database/ferretdb-build.js";
import { projectRoot } from "../server/runtime/paths.js";
import { connectJson, grpc, grpcClient, rejectsWith } from "./support/clients.js";
import { serverMain, startServer, testDatabaseUri } from "./support/server.js";

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("server life cycle", () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const c of cleanups) c();
  });

  it("finishes in-flight calls on SIGTERM, then exits 0", async () => {
    // Expensive hashing makes a Create take about a second.
    const server = await startServer({ args: ["--argon2-memory", "131072", "--argon2-iterations", "6"] });
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    const started = Date.now();
    const inFlight = users.call("Create", {
      user: { user_id: "slow-one", primary_email_address: "slow@example.com" },
      password: "a slow but fine password",
    });
    await new Promise((r) => setTimeout(r, 150));
    const exit = server.stop();
    const { user } = await inFlight;
    assert.equal(user.user_id, "slow-one");
    assert.equal(await exit, 0);
    assert.ok(Date.now() - started > 150);
    await rejectsWith(users.call("GetCurrent", {}, { deadlineMs: 2000 }), grpc.status.UNAVAILABLE);
    users.close();
  });

  it("gives calls without a client deadline the default one, and honours a client's own", async () => {
    const server = await startServer({
      args: ["--default-deadline", "50ms", "--argon2-memory", "131072", "--argon2-iterations", "6"],
    });
    const slow = {
      user: { user_id: "slow", primary_email_address: "slow@example.com" },
      password: "a slow passphrase",
    };
    const noDeadline = await connectJson(server, "roster.v1.UserRegistry/Create", slow, { key: server.adminKey });
    assert.equal(noDeadline.body.code, "deadline_exceeded", JSON.stringify(noDeadline.body));
    const own = await connectJson(
      server,
      "roster.v1.UserRegistry/Create",
      { ...slow, user: { ...slow.user, user_id: "slow-2", primary_email_address: "slow2@example.com" } },
      {
        key: server.adminKey,
        headers: { "connect-timeout-ms": "30000" },
      },
    );
    assert.equal(own.status, 200, JSON.stringify(own.body));
    await server.stop();
  });

  it("ends health Watch streams with NOT_SERVING on SIGTERM instead of waiting for them", async () => {
    const server = await startServer();
    const health = grpcClient(server, "grpc.health.v1.Health");
    const seen: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const stream = (
        health.raw as unknown as { Watch: (r: unknown) => grpc.ClientReadableStream<{ status: string }> }
      ).Watch({ service: "" });
      stream.on("data", (m) => seen.push(m.status));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    assert.equal(await server.stop(), 0);
    await ended;
    assert.deepEqual(seen, ["SERVING", "NOT_SERVING"]);
    assert.ok(Date.now() - started < 5000, "no wait for the shutdown timeout");
    health.close();
  });

  it("reports NOT_SERVING and refuses RPCs until its database answers, then serves", async () => {
    const port = await freePort();
    const server = await startServer({
      mongodbUri: `mongodb://127.0.0.1:${port}/roster_late`,
      expectBootstrap: false,
      waitUntilServing: false,
    });
    const health = grpcClient(server, "grpc.health.v1.Health");
    assert.equal((await health.call("Check", { service: "" })).status, "NOT_SERVING");
    assert.equal((await fetch(`${server.url}/healthz`)).status, 503);
    const users = grpcClient(server, "roster.v1.UserRegistry");
    await rejectsWith(users.call("GetCurrent", {}), grpc.status.UNAVAILABLE);

    const dir = mkdtempSync(join(tmpdir(), "roster-late-db-"));
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
    const deadline = Date.now() + 30_000;
    let status = "";
    while (Date.now() < deadline && status !== "SERVING") {
      status = (await health.call("Check", { service: "roster.v1.UserRegistry" })).status;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, "SERVING");
    health.close();
    users.close();
    assert.equal(await server.stop(), 0);
    db.kill("SIGTERM");
  });

  it("starts its own embedded database without MONGODB_URI, prints the admin key on the first start only, and stops the database with itself", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "roster-embedded-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { MONGODB_URI: "", ROSTER_DATA_DIR: dataDir };
    const first = await startServer({ env });
    assert.match(first.adminKey, /^rst_ak_/);
    assert.doesNotMatch(first.stdout(), /rst_ak_/, "the key is not in the structured log");
    const pidFile = join(dataDir, "db", "ferretdb.pid");
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.ok(alive(pid), "the embedded FerretDB runs");
    const users = grpcClient(first, "roster.v1.UserRegistry", first.adminKey);
    await users.call("Create", { user: { user_id: "kept", primary_email_address: "kept@example.com" } });
    users.close();
    assert.equal(await first.stop(), 0);
    assert.equal(alive(pid), false, "the embedded FerretDB stopped with the server");
    assert.equal(existsSync(pidFile), false);

    const second = await startServer({ env, expectBootstrap: false });
    assert.doesNotMatch(second.stderr(), /rst_ak_/, "no new key on later starts");
    const again = grpcClient(second, "roster.v1.UserRegistry", first.adminKey);
    assert.equal((await again.call("Get", { user_id: "kept" })).user.user_id, "kept", "data survived the restart");
    again.close();
    assert.equal(await second.stop(), 0);
  });

  it("bootstrap-admin creates or reuses an approved admin and prints one JSON line with a fresh key", async () => {
    const mongodbUri = testDatabaseUri();
    const env = { ...process.env, MONGODB_URI: mongodbUri };
    const created = JSON.parse(
      (
        await run(
          process.execPath,
          [serverMain, "bootstrap-admin", "--user-id", "root", "--email", "root@example.com"],
          { env },
        )
      ).stdout,
    );
    assert.equal(created.user_id, "root");
    assert.equal(created.created, true);
    const reused = JSON.parse(
      (await run(process.execPath, [serverMain, "bootstrap-admin", "--user-id", "root"], { env })).stdout,
    );
    assert.equal(reused.created, false);
    assert.notEqual(reused.api_key, created.api_key);
    const server = await startServer({ mongodbUri, expectBootstrap: false });
    for (const key of [created.api_key, reused.api_key]) {
      const users = grpcClient(server, "roster.v1.UserRegistry", key);
      const { user } = await users.call("GetCurrent", { field_mask: { paths: ["admin", "state"] } });
      assert.equal(user.user_id, "root");
      assert.equal(user.admin, true);
      assert.equal(user.state, "STATE_APPROVED");
      users.close();
    }
    assert.doesNotMatch(server.stderr(), /rst_ak_/, "no bootstrap key when users exist");
    await server.stop();
  });

  it("reads options from a YAML config file and explains bad values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roster-config-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "roster.yaml");
    writeFileSync(file, "restore-window: 3s\nmax-deadline: 1m\n");
    const server = await startServer({ args: ["--config", file, "--max-deadline", "2m"] });
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    await users.call("Create", { user: { user_id: "configured", primary_email_address: "c@example.com" } });
    const { restorable_until } = await users.call("Delete", { user_id: "configured" });
    const window = Number(restorable_until.seconds) * 1000 - Date.now();
    assert.ok(window > 0 && window < 4000, `restore window from the file: ${window} ms`);
    // The flag (2m) wins over the file (1m): a 90 s deadline is accepted.
    await users.call("GetCurrent", {}, { deadlineMs: 90_000 });
    users.close();
    await server.stop();
    await assert.rejects(
      run(process.execPath, [serverMain, "serve", "--restore-window", "soon"], {
        env: { ...process.env, MONGODB_URI: testDatabaseUri() },
      }),
      (err: { stderr: string; code: number }) => {
        assert.match(err.stderr, /invalid duration "soon"/);
        assert.notEqual(err.code, 0);
        return true;
      },
    );
    const help = await run(process.execPath, [serverMain, "serve", "--help"]);
    for (const option of [
      "--listen",
      "--mongodb-uri",
      "--data-dir",
      "--restore-window",
      "--cors-origins",
      "ROSTER_LISTEN",
      "MONGODB_URI",
    ]) {
      assert.ok(help.stdout.includes(option), `help mentions ${option}`);
    }
  });
});
