import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { projectRoot } from "../server/runtime/paths.js";
import { roster } from "./support/cli.js";
import { pythonVenv } from "./support/python-venv.js";
import { startServer, type TestServer } from "./support/server.js";

interface Check {
  title: string;
  status: string;
  reason: string | null;
  resource_type: string | null;
  tags: string[];
}

/** Statuses that mean the server behaves as the RFCs require or allow. */
const passing = new Set(["SUCCESS", "COMPLIANT", "ACCEPTABLE"]);

/**
 * scim2-tester, an independent SCIM 2.0 conformance suite from PyPI, run
 * against a live server with a provisioning key made by the CLI. Checks it
 * skips by itself (Groups, bulk) come back as SKIPPED; see the README.
 */
describe("SCIM conformance (scim2-tester)", () => {
  let server: TestServer;
  let checks: Check[] = [];

  before(async () => {
    const support = join(projectRoot, "test", "support");
    const python = pythonVenv("scim-venv", join(support, "scim-tester-requirements.txt"));
    server = await startServer();
    const key = await roster(["users", "api-keys", "create", "admin", "--name", "scim", "--rights", "scim"], {
      server,
    });
    assert.equal(key.code, 0, key.stderr);
    const { stdout } = await promisify(execFile)(
      python,
      [join(support, "scim_conformance.py"), `${server.url}/scim/v2`],
      { env: { ...process.env, SCIM_TOKEN: key.json().key }, maxBuffer: 16 << 20, timeout: 300_000 },
    );
    checks = stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Check);
    const count = (s: string) => checks.filter((c) => c.status === s).length;
    process.stderr.write(
      `[scim2-tester] ${checks.length} checks: ${[...new Set(checks.map((c) => c.status))].map((s) => `${s} ${count(s)}`).join(", ")}\n`,
    );
  });
  after(async () => {
    await server?.stop();
  });

  it("runs the suite's checks", () => {
    assert.ok(checks.length > 20, `only ${checks.length} checks ran`);
  });

  it("passes every check that applies to a server without Groups", () => {
    const failed = checks.filter((c) => !passing.has(c.status) && c.status !== "SKIPPED");
    assert.deepEqual(
      failed.map((c) => `${c.status} ${c.resource_type ?? ""} ${c.title}: ${c.reason}`),
      [],
    );
  });
});
