import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startEmbeddedDatabase } from "../server/database/embedded-database.js";
import { projectRoot } from "../server/runtime/paths.js";
import { connectJson, type GrpcError, grpc, grpcClient } from "./support/clients.js";
import {
  alive,
  databasePid,
  dataFolder,
  healthy,
  runServerCommand,
  signalDatabase,
  startEmbeddedServer,
  waitFor,
} from "./support/faults.js";
import { startServer } from "./support/server.js";

// Issue 10, findings 1-3: the embedded database under faults. Every test runs
// the real server binary on a data folder of its own, with its own FerretDB.
describe("database faults", () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("bootstrap-admin on the data folder of a running server uses its database and leaves it running", async () => {
    const folder = dataFolder();
    cleanups.push(folder.remove);
    const server = await startEmbeddedServer(folder.path);
    cleanups.push(() => server.stop());
    const pid = databasePid(folder.path);

    const result = await runServerCommand(folder.path, [
      "bootstrap-admin",
      "--user-id",
      "ops",
      "--email",
      "ops@example.com",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const admin = JSON.parse(result.stdout);
    assert.equal(admin.user_id, "ops");

    assert.ok(alive(pid), "the server's database still runs");
    assert.equal(databasePid(folder.path), pid, "no other database was started");
    const users = grpcClient(server, "roster.v1.UserRegistry", admin.api_key);
    const { user } = await users.call("GetCurrent", { field_mask: { paths: ["admin"] } }, { deadlineMs: 5000 });
    assert.equal(user.user_id, "ops");
    assert.equal(user.admin, true);
    const byFirstAdmin = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    await byFirstAdmin.call(
      "Create",
      { user: { user_id: "after-ops", primary_email_address: "a@example.com" } },
      { deadlineMs: 5000 },
    );
    users.close();
    byFirstAdmin.close();
    assert.ok(await healthy(server), "the server keeps serving");
  });

  it("restarts a killed embedded database, says NOT_SERVING meanwhile, answers UNAVAILABLE quickly and loses no acknowledged write", async () => {
    const folder = dataFolder();
    cleanups.push(folder.remove);
    const server = await startEmbeddedServer(folder.path);
    cleanups.push(() => server.stop());
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    const health = grpcClient(server, "grpc.health.v1.Health");

    const acked: string[] = [];
    const failures: { code: number; ms: number }[] = [];
    let writing = true;
    let next = 0;
    const writer = async () => {
      while (writing) {
        const id = `w-${next++}`;
        const started = Date.now();
        try {
          await users.call(
            "Create",
            { user: { user_id: id, primary_email_address: `${id}@example.com` } },
            { deadlineMs: 20_000 },
          );
          acked.push(id);
        } catch (err) {
          failures.push({ code: (err as GrpcError).code, ms: Date.now() - started });
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = [writer(), writer(), writer()];
    await waitFor("writes under way", () => acked.length >= 20, 20_000);

    const killed = signalDatabase(folder.path, "SIGKILL");
    const killedAt = Date.now();
    const toNotServing = await waitFor("NOT_SERVING", async () => !(await healthy(server)), 5000);
    const grpcDuring = await health.call("Check", { service: "" }, { deadlineMs: 2000 }).catch(() => undefined);
    const toServing = await waitFor("SERVING again", () => healthy(server), 20_000);
    const servingMs = Date.now() - killedAt;
    const { status } = await health.call("Check", { service: "" }, { deadlineMs: 2000 });
    const ackedBefore = acked.length;
    await waitFor("writes after the restart", () => acked.length >= ackedBefore + 20, 20_000);
    writing = false;
    await Promise.all(writers);

    const restarted = databasePid(folder.path);
    console.log(
      `killed database ${killed}: NOT_SERVING after ${toNotServing} ms (gRPC health then ${grpcDuring?.status}), ` +
        `SERVING again after ${servingMs} ms (${toServing} ms later), new database ${restarted}; ` +
        `${acked.length} acknowledged writes, ${failures.length} failed ` +
        `(${[...new Set(failures.map((f) => grpc.status[f.code]))].join(", ")}; slowest ${Math.max(0, ...failures.map((f) => f.ms))} ms)`,
    );
    assert.ok(toNotServing < 2000, `NOT_SERVING within 2 s (${toNotServing} ms)`);
    assert.ok(servingMs < 10_000, `SERVING again within 10 s (${servingMs} ms)`);
    assert.equal(status, "SERVING");
    assert.notEqual(restarted, killed);
    assert.ok(alive(restarted), "the database was restarted");
    for (const f of failures) {
      assert.equal(grpc.status[f.code], "UNAVAILABLE", "failed writes are UNAVAILABLE");
      assert.ok(f.ms < 5000, `failures answer quickly (${f.ms} ms)`);
    }
    const missing: string[] = [];
    for (const id of acked) {
      const found = await users.call("Get", { user_id: id }, { deadlineMs: 5000 }).catch(() => undefined);
      if (!found) missing.push(id);
    }
    assert.deepEqual(missing, [], "every acknowledged write is there");
    users.close();
    health.close();
    assert.ok(alive(server.process.pid as number), "the server stayed up");
  });

  it("answers a call within its deadline while the database is stopped, and serves again when it resumes", async () => {
    const folder = dataFolder();
    cleanups.push(folder.remove);
    const server = await startEmbeddedServer(folder.path);
    cleanups.push(async () => {
      if (alive(databasePid(folder.path))) signalDatabase(folder.path, "SIGCONT");
      await server.stop();
    });
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    await users.call("Create", { user: { user_id: "still-here", primary_email_address: "s@example.com" } });

    signalDatabase(folder.path, "SIGSTOP");
    const started = Date.now();
    const connect = connectJson(
      server,
      "roster.v1.UserRegistry/Get",
      { userId: "still-here" },
      { key: server.adminKey, headers: { "connect-timeout-ms": "3000" }, signal: AbortSignal.timeout(15_000) },
    ).then((res) => ({ code: res.body?.code as string | undefined, ms: Date.now() - started }));
    const viaGrpc = users
      .call("Get", { user_id: "still-here" }, { deadlineMs: 3000 })
      .then(() => ({ code: "ok", ms: Date.now() - started }))
      .catch((err: GrpcError) => ({ code: grpc.status[err.code], ms: Date.now() - started }));
    const toNotServing = await waitFor("NOT_SERVING", async () => !(await healthy(server)), 5000);
    const [c, g] = await Promise.all([connect, viaGrpc]);
    // A stopped database fails the pings: later calls get UNAVAILABLE at once.
    const later = Date.now();
    const refused = await users
      .call("Get", { user_id: "still-here" }, { deadlineMs: 3000 })
      .catch((err: GrpcError) => grpc.status[err.code]);
    const refusedMs = Date.now() - later;
    console.log(
      `database stopped: Connect Get (3000 ms) answered ${c.code} after ${c.ms} ms, gRPC Get (3000 ms) ${g.code} after ${g.ms} ms; ` +
        `NOT_SERVING after ${toNotServing} ms; a later Get ${refused} after ${refusedMs} ms`,
    );
    assert.ok(["deadline_exceeded", "unavailable"].includes(c.code ?? ""), `Connect code ${c.code}`);
    assert.ok(c.ms < 3500, `Connect answer within 3.5 s (${c.ms} ms)`);
    assert.ok(["DEADLINE_EXCEEDED", "UNAVAILABLE"].includes(g.code), `gRPC code ${g.code}`);
    assert.ok(g.ms < 3500, `gRPC answer within 3.5 s (${g.ms} ms)`);
    assert.ok(toNotServing < 2000, `NOT_SERVING within 2 s (${toNotServing} ms)`);
    assert.equal(refused, "UNAVAILABLE");
    assert.ok(refusedMs < 1000, `refused at once (${refusedMs} ms)`);

    signalDatabase(folder.path, "SIGCONT");
    const toServing = await waitFor("SERVING again", () => healthy(server), 10_000);
    const { user } = await users.call("Get", { user_id: "still-here" }, { deadlineMs: 5000 });
    assert.equal(user.user_id, "still-here");
    console.log(`database resumed: SERVING after ${toServing} ms`);
    users.close();
  });

  it("reports NOT_SERVING while an external database (MONGODB_URI) does not answer, and SERVING once it does", async () => {
    const folder = dataFolder();
    cleanups.push(folder.remove);
    // A database this test process owns, which the server only reaches by URI.
    const external = await startEmbeddedDatabase({
      dataDir: join(folder.path, "external"),
      cacheDir: process.env.ROSTER_CACHE_DIR ?? join(projectRoot, ".cache"),
      log: () => {},
    });
    cleanups.push(() => external.stop());
    const server = await startServer({ mongodbUri: `${external.uri}roster` });
    cleanups.push(() => server.stop());
    const pid = Number(readFileSync(join(folder.path, "external", "ferretdb.pid"), "utf8"));

    process.kill(pid, "SIGSTOP");
    let toNotServing: number;
    try {
      toNotServing = await waitFor("NOT_SERVING", async () => !(await healthy(server)), 5000);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const toServing = await waitFor("SERVING again", () => healthy(server), 10_000);
    console.log(
      `external database stopped: NOT_SERVING after ${toNotServing} ms; resumed: SERVING after ${toServing} ms`,
    );
    assert.ok(toNotServing < 2000, `NOT_SERVING within 2 s (${toNotServing} ms)`);
    const users = grpcClient(server, "roster.v1.UserRegistry", server.adminKey);
    await users.call("GetCurrent", {}, { deadlineMs: 5000 });
    users.close();
  });
});
