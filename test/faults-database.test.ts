import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { grpcClient } from "./support/clients.js";
import { alive, databasePid, dataFolder, healthy, runServerCommand, startEmbeddedServer } from "./support/faults.js";

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
});
