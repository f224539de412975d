import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { projectRoot } from "../server/runtime/paths.js";
import { cliEnv, rosterMain } from "./support/cli.js";
import { startServer, type TestServer } from "./support/server.js";

/** The ```sh blocks of docs/cli.md, in order (```shell blocks are not run). */
function examples(): string[] {
  const text = readFileSync(join(projectRoot, "docs", "cli.md"), "utf8");
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

/** docs/cli.md promises examples that work as written: run them, in order, against a fresh server. */
describe("the examples of docs/cli.md", () => {
  let server: TestServer;
  let bin: string;
  let env: Record<string, string>;
  let cwd: string;

  before(async () => {
    server = await startServer();
    bin = mkdtempSync(join(tmpdir(), "roster-bin-"));
    const wrapper = join(bin, "roster");
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(rosterMain)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    env = cliEnv({ server });
    env.PATH = `${bin}:${env.PATH}`;
    // The examples set the server in the config file themselves; ROSTER_SERVER would hide mistakes there.
    delete env.ROSTER_SERVER;
    cwd = mkdtempSync(join(tmpdir(), "roster-docs-"));
  });
  after(async () => {
    await server.stop();
  });

  it("has examples to run", () => {
    assert.ok(examples().length >= 15, `${examples().length} examples`);
  });

  for (const [i, script] of examples().entries()) {
    const title = script.trim().split("\n")[0] as string;
    it(`runs example ${i + 1}: ${title}`, async () => {
      // The docs' default server is 127.0.0.1:8080; the examples reach the test server through the config file.
      const withServer = script.replaceAll("http://127.0.0.1:8080", server.url);
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile("bash", ["-eo", "pipefail", "-c", withServer], { env, cwd }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      assert.equal(result.code, 0, `${script}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    });
  }
});
