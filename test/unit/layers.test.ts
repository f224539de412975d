import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../../server/paths.js";

/** The relative imports of every TypeScript file below `folder`, as paths from the project root. */
function importsBelow(folder: string): { file: string; target: string }[] {
  const found: { file: string; target: string }[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith(".ts")) {
        for (const m of readFileSync(path, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
          found.push({ file: relative(projectRoot, path), target: relative(projectRoot, join(dir, m[1] as string)) });
        }
      }
    }
  };
  visit(join(projectRoot, folder));
  return found;
}

describe("layers", () => {
  for (const folder of ["cli", "web", "shared"]) {
    it(`keep ${folder}/ from importing server/`, () => {
      const wrong = importsBelow(folder).filter((i) => i.target.startsWith("server/"));
      assert.deepEqual(
        wrong.map((i) => `${i.file} imports ${i.target}`),
        [],
      );
    });
  }

  it("keep shared/ from importing cli/ or web/", () => {
    const wrong = importsBelow("shared").filter((i) => /^(cli|web)\//.test(i.target));
    assert.deepEqual(wrong, []);
  });
});
