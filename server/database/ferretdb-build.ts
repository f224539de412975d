import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../runtime/paths.js";

/** The FerretDB release Roster embeds. */
export const ferretdbVersion = "v1.24.1";

const modulePath = "github.com/FerretDB/FerretDB";

/**
 * Roster's patch to FerretDB's SQLite backend: indexes on the type rank and
 * value of each key, and filters, sorts, skips, limits and counts that SQLite
 * answers from them (see scripts/ferretdb/README.md and docs/database.md).
 */
export const ferretdbPatchPath = join(projectRoot, "scripts", "ferretdb", "sqlite-index-pushdown.patch");

/** The build's name: the release plus a digest of the patch, so that a changed patch builds anew. */
export function ferretdbBuildName(): string {
  const digest = createHash("sha256").update(readFileSync(ferretdbPatchPath)).digest("hex").slice(0, 12);
  return `${ferretdbVersion}-roster.${digest}`;
}

/** Where the built binary lives inside the cache folder. */
export function ferretdbBinaryPath(cacheDir: string): string {
  return join(cacheDir, `ferretdb-${ferretdbBuildName()}`, "ferretdb");
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${command} ${args.join(" ")} failed (${code}):\n${err.slice(-4000)}`)),
    );
  });
}

/** Take a lock folder (mkdir is atomic), waiting while somebody else holds it. */
async function withLock<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 20 minutes belongs to a build that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Build FerretDB from the Go module proxy into the cache folder, once.
 *
 * Why not just `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.1`:
 * that binary panics at start-up, because FerretDB reads its version from
 * build/version/version.txt, which the module download lacks; and the release
 * scans every document for every query on SQLite. So the module is
 * downloaded, copied, patched (`git apply`), given that file, and built with
 * `go build`.
 */
export async function ensureFerretdb(cacheDir: string, log: (msg: string) => void): Promise<string> {
  const binary = ferretdbBinaryPath(cacheDir);
  if (existsSync(binary)) return binary;
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error || go.status !== 0) {
    throw new Error(
      "No database: MONGODB_URI is not set, no mongod is on PATH, and FerretDB is not built yet because the Go " +
        "toolchain (`go`) was not found. Install Go 1.22 or later (https://go.dev/dl/) so that Roster can build " +
        "its embedded FerretDB, or set MONGODB_URI to a MongoDB server.",
    );
  }
  const buildName = ferretdbBuildName();
  const dir = join(cacheDir, `ferretdb-${buildName}`);
  mkdirSync(cacheDir, { recursive: true });
  return withLock(dir, async () => {
    if (existsSync(binary)) return binary;
    log(`building FerretDB ${buildName} with ${go.stdout.trim()} (once; takes a few minutes)`);
    const env = { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
    const info = JSON.parse(
      await run("go", ["mod", "download", "-json", `${modulePath}@${ferretdbVersion}`], { env, cwd: cacheDir }),
    ) as {
      Dir?: string;
      Error?: string;
    };
    if (!info.Dir) throw new Error(`go mod download ${modulePath}@${ferretdbVersion}: ${info.Error ?? "no folder"}`);
    const src = join(cacheDir, `ferretdb-${buildName}-src`);
    rmSync(src, { recursive: true, force: true });
    cpSync(info.Dir, src, { recursive: true });
    makeWritable(src);
    // The cache folder may lie inside a git work tree (this project's), where
    // `git apply` would patch paths relative to that tree's top: stop its search.
    await run("git", ["apply", "--whitespace=nowarn", ferretdbPatchPath], {
      env: { ...env, GIT_CEILING_DIRECTORIES: cacheDir },
      cwd: src,
    });
    if (!existsSync(join(src, "internal", "backends", "sqlite", "pushdown.go"))) {
      throw new Error(`git apply ${ferretdbPatchPath} did not patch ${src}`);
    }
    writeFileSync(join(src, "build", "version", "version.txt"), `${buildName}\n`);
    mkdirSync(dir, { recursive: true });
    await run("go", ["build", "-trimpath", "-o", `${binary}.tmp`, "./cmd/ferretdb"], { env, cwd: src });
    renameSync(`${binary}.tmp`, binary);
    rmSync(src, { recursive: true, force: true });
    log(`built ${binary}`);
    return binary;
  });
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(path);
    else chmodSync(path, 0o644);
  }
}
