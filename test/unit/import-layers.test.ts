import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../../server/runtime/paths.js";

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

/** The imports between different folders of `server/`, by `from -> to` folder. */
function folderEdges(imports: Import[]): Map<string, Import[]> {
  const edges = new Map<string, Import[]>();
  for (const i of imports) {
    const from = dirname(i.file);
    const to = dirname(i.target);
    if (from === to || !to.startsWith("server")) continue;
    const key = `${from} -> ${to}`;
    edges.set(key, [...(edges.get(key) ?? []), i]);
  }
  return edges;
}

/** The imports of one folder edge, as `file imports target` lines, once each. */
function describeEdge(edges: Map<string, Import[]>, from: string, to: string): string {
  return [...new Set((edges.get(`${from} -> ${to}`) ?? []).map((i) => `${i.file} imports ${i.target}`))].join(", ");
}

/**
 * The pairs of folders below `server/` (a folder is the directory of a file;
 * `server` itself is one) that import each other, each with the imports
 * that close the loop.
 */
function foldersImportingEachOther(edges: Map<string, Import[]>): string[] {
  const loops: string[] = [];
  for (const key of edges.keys()) {
    const [from, to] = key.split(" -> ") as [string, string];
    if (from < to && edges.has(`${to} -> ${from}`)) {
      loops.push(`${from} <-> ${to}: ${describeEdge(edges, from, to)}; ${describeEdge(edges, to, from)}`);
    }
  }
  return loops.sort();
}

/** A loop of three or more folders (a -> b -> c -> a), with its imports, or undefined. */
function longerLoop(edges: Map<string, Import[]>): string | undefined {
  const next = new Map<string, string[]>();
  for (const key of edges.keys()) {
    const [from, to] = key.split(" -> ") as [string, string];
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (folder: string): string[] | undefined => {
    const start = path.indexOf(folder);
    if (start >= 0) return [...path.slice(start), folder];
    if (done.has(folder)) return undefined;
    path.push(folder);
    for (const to of next.get(folder) ?? []) {
      const loop = visit(to);
      if (loop && loop.length > 3) return loop;
    }
    path.pop();
    done.add(folder);
    return undefined;
  };
  for (const folder of [...next.keys()].sort()) {
    const loop = visit(folder);
    if (loop) {
      const steps = loop.slice(1).map((to, n) => describeEdge(edges, loop[n] as string, to));
      return `${loop.join(" -> ")}: ${steps.join("; ")}`;
    }
  }
  return undefined;
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
    assert.deepEqual(foldersImportingEachOther(folderEdges(importsBelow("server"))), []);
  });

  it("keep the folders of server/ free of longer loops, so that they form layers", () => {
    assert.equal(longerLoop(folderEdges(importsBelow("server"))), undefined);
  });
});
