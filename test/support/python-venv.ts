import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../server/runtime/paths.js";

/**
 * A Python virtual environment in `.cache/<name>` holding the packages of
 * `requirements` (a file of pinned versions), made with `python3 -m venv`
 * and pip on first use and remade when the file changes. Returns the path
 * of its python. Fails with pip's output when the packages cannot be had.
 */
export function pythonVenv(name: string, requirements: string): string {
  const dir = join(projectRoot, ".cache", name);
  const python = join(dir, "bin", "python");
  const wanted = readFileSync(requirements, "utf8");
  const stamp = join(dir, "requirements.txt");
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) return python;
  try {
    execFileSync("python3", ["-m", "venv", "--clear", dir], { stdio: "pipe" });
    execFileSync(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements], {
      stdio: "pipe",
      timeout: 600_000,
    });
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(
      `could not set up the Python environment ${dir} (python3 with venv and pip, and PyPI, are needed): ` +
        `${e.message}\n${e.stdout?.toString() ?? ""}${e.stderr?.toString() ?? ""}`,
    );
  }
  writeFileSync(stamp, wanted);
  return python;
}
