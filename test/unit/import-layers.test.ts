import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../../server/paths.js";

interface Import {
  /** The importing file, from the project root. */
  file: string;
  /** The imported file, from the project root, as the `.ts` source. */
  target: string;
}

/** The relative imports (static, `export ... from` and `import()`) of every TypeScript file below `folder`. */
function importsBelow(folder: string): Import[] {
  const found: Import[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith(".ts")) {
        for (const m of readFileSync(path, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
          const target = relative(projectRoot, join(dir, m[1] as string)).replace(/\.js$/, ".ts");
          found.push({ file: relative(projectRoot, path), target });
        }
      }
    }
  };
  visit(join(projectRoot, folder));
  return found;
}

/**
 * The pairs of folders below `server/` (a folder is the directory of a file;
 * `server` itself is one) that import each other, each with the files whose
 * imports close the loop.
 */
function foldersImportingEachOther(imports: Import[]): string[] {
  const edges = new Map<string, Import[]>();
  for (const i of imports) {
    const from = dirname(i.file);
    const to = dirname(i.target);
    if (from === to || !to.startsWith("server")) continue;
    const key = `${from} -> ${to}`;
    edges.set(key, [...(edges.get(key) ?? []), i]);
  }
  const loops: string[] = [];
  for (const [key, there] of edges) {
    const [from, to] = key.split(" -> ") as [string, string];
    const back = edges.get(`${to} -> ${from}`);
    if (!back || from > to) continue;
    const files = (list: Import[]) => [...new Set(list.map((i) => `${i.file} imports ${i.target}`))].join(", ");
    loops.push(`${from} <-> ${to}: ${files(there)}; ${files(back)}`);
  }
  return loops.sort();
}

describe("import layers", () => {
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
    assert.deepEqual(
      wrong.map((i) => `${i.file} imports ${i.target}`),
      [],
    );
  });

  it("keep every two folders of server/ from importing each other", () => {
    assert.deepEqual(foldersImportingEachOther(importsBelow("server")), []);
  });
});
