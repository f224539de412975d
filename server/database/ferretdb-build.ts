import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** The FerretDB release Roster embeds. */
export const ferretdbVersion = "v1.24.1";

const modulePath = "github.com/FerretDB/FerretDB";

/** Where the built binary lives inside the cache folder. */
export function ferretdbBinaryPath(cacheDir: string): string {
  return join(cacheDir, `ferretdb-${ferretdbVersion}`, "ferretdb");
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
 * build/version/version.txt, which the module download lacks. So the module
 * is downloaded, copied, given that file, and built with `go build`.
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
  const dir = join(cacheDir, `ferretdb-${ferretdbVersion}`);
  mkdirSync(cacheDir, { recursive: true });
  return withLock(dir, async () => {
    if (existsSync(binary)) return binary;
    log(`building FerretDB ${ferretdbVersion} with ${go.stdout.trim()} (once; takes a few minutes)`);
    const env = { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
    const info = JSON.parse(
      await run("go", ["mod", "download", "-json", `${modulePath}@${ferretdbVersion}`], { env, cwd: cacheDir }),
    ) as {
      Dir?: string;
      Error?: string;
    };
    if (!info.Dir) throw new Error(`go mod download ${modulePath}@${ferretdbVersion}: ${info.Error ?? "no folder"}`);
    const src = join(cacheDir, `ferretdb-${ferretdbVersion}-src`);
    rmSync(src, { recursive: true, force: true });
    cpSync(info.Dir, src, { recursive: true });
    makeWritable(src);
    writeFileSync(join(src, "build", "version", "version.txt"), `${ferretdbVersion}\n`);
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
