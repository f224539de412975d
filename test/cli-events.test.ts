import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { cliEnv, roster, rosterMain } from "./support/cli.js";
import { createUser } from "./support/fixtures.js";
import { startServer, type TestServer } from "./support/server.js";

/** `roster events list|stream` and `roster users history`, run as a child process against a live server. */
describe("roster events", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    await createUser(server, { userId: "alice" });
    await createUser(server, { userId: "bob" });
    const set = await roster(["users", "update", "alice", "--name", "Alice A.", "--description", "team lead"], {
      server,
    });
    assert.equal(set.code, 0, set.stderr);
  });
  after(async () => {
    await server.stop();
  });

  it("answers who changed alice, when, and what: users history", async () => {
    const res = await roster(["users", "history", "alice"], { server });
    assert.equal(res.code, 0, res.stderr);
    const events = res.json();
    assert.deepEqual(
      events.map((e: { name: string }) => e.name),
      ["user.update", "api_key.create", "user.create"],
    );
    const [update] = events;
    assert.equal(update.actor.user_id, "admin");
    assert.equal(update.actor.credential_kind, "api_key");
    assert.deepEqual(update.paths, ["name", "description"]);
    assert.ok(Date.parse(update.time) > Date.now() - 60_000);
  });

  it("lists events filtered by names with wildcards, user and time", async () => {
    const res = await roster(["events", "list", "--names", "user.*", "--user", "bob", "--since", "1h"], { server });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      res.json().map((e: { name: string }) => e.name),
      ["user.create"],
    );
    const later = await roster(["events", "list", "--since", "2999-01-01T00:00:00Z"], { server });
    assert.equal(later.code, 0, later.stderr);
    assert.deepEqual(later.json(), []);
    const wrong = await roster(["events", "list", "--names", "user.{x}"], { server });
    assert.equal(wrong.code, 3, wrong.stderr);
  });

  it("streams one JSON object a line, live, and resumes after the last id printed", async () => {
    const lines: string[] = [];
    const child = spawn(process.execPath, [rosterMain, "events", "stream", "--user", "alice", "--tail", "1"], {
      env: cliEnv({ server }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    child.stdout.on("data", (d) => {
      buffer += d;
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
    });
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 15_000;
      while (lines.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(lines.length >= n, `got ${lines.length} of ${n} lines`);
    };
    try {
      await waitFor(1);
      for (const name of ["A1", "A2"]) {
        const res = await roster(["users", "update", "alice", "--name", name], { server });
        assert.equal(res.code, 0, res.stderr);
      }
      await waitFor(3);
    } finally {
      child.kill("SIGINT");
    }
    const events = lines.map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => e.name),
      ["user.update", "user.update", "user.update"],
    );
    assert.deepEqual(events[1].paths, ["name"]);
    await roster(["users", "update", "alice", "--name", "A3"], { server });
    const resumed: string[] = [];
    await roster(["events", "stream", "--user", "alice", "--after-id", events[2].id], {
      server,
      env: { ROSTER_TIMEOUT: "2s" },
      onStdout: (out) => resumed.splice(0, resumed.length, ...out.split("\n").filter(Boolean)),
    });
    assert.equal(resumed.length, 1);
    assert.equal(JSON.parse(resumed[0] as string).name, "user.update");
    assert.equal(Number(JSON.parse(resumed[0] as string).id), Number(events[2].id) + 1);
  });
});
