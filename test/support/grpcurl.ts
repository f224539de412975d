import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../../server/runtime/paths.js";

const run = promisify(execFile);
const version = "v1.9.4";

/**
 * Path of a grpcurl binary: $ROSTER_GRPCURL, else one built once with Go
 * into the project's cache folder (Go is needed for FerretDB anyway).
 */
export async function ensureGrpcurl(): Promise<string> {
  if (process.env.ROSTER_GRPCURL) return process.env.ROSTER_GRPCURL;
  const bin = join(projectRoot, ".cache", `grpcurl-${version}`);
  const binary = join(bin, "grpcurl");
  if (existsSync(binary)) return binary;
  mkdirSync(bin, { recursive: true });
  const go = spawnSync("go", ["version"]);
  if (go.status !== 0) throw new Error("grpcurl tests need Go (to build grpcurl) or ROSTER_GRPCURL");
  await run("go", ["install", `github.com/fullstorydev/grpcurl/cmd/grpcurl@${version}`], {
    env: { ...process.env, GOBIN: bin, CGO_ENABLED: "0" },
  });
  return binary;
}
