import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { projectRoot } from "../server/runtime/paths.js";

const run = promisify(execFile);
const buf = join(projectRoot, "node_modules", ".bin", "buf");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe("generated code", () => {
  const tmp = mkdtempSync(join(tmpdir(), "roster-gen-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("passes buf lint", async () => {
    await run(buf, ["lint"], { cwd: projectRoot });
  });

  it("is what `npm run generate` makes from the proto files (gen/ is not stale)", async () => {
    const template = join(tmp, "buf.gen.yaml");
    const out = join(tmp, "gen");
    writeFileSync(
      template,
      readFileSync(join(projectRoot, "buf.gen.yaml"), "utf8").replace(/^(\s*out:\s*).*$/m, `$1${out}`),
    );
    await run(buf, ["generate", "--template", template], {
      cwd: projectRoot,
      env: { ...process.env, PATH: `${join(projectRoot, "node_modules", ".bin")}:${process.env.PATH}` },
    });
    await run(buf, ["build", "--as-file-descriptor-set", "-o", join(out, "roster.binpb")], { cwd: projectRoot });
    const expected = files(out)
      .map((f) => relative(out, f))
      .sort();
    const actual = files(join(projectRoot, "gen"))
      .map((f) => relative(join(projectRoot, "gen"), f))
      .sort();
    assert.deepEqual(actual, expected, "same files");
    for (const f of expected) {
      assert.ok(
        readFileSync(join(out, f)).equals(readFileSync(join(projectRoot, "gen", f))),
        `gen/${f} is stale: run npm run generate`,
      );
    }
  });
});
