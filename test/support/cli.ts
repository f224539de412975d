import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../server/runtime/paths.js";
import type { TestServer } from "./server.js";

/** The built `roster` binary. */
export const rosterMain = join(projectRoot, "dist", "cli", "main.js");

/** What a run of `roster` did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed CLI output.
  json(): any;
}

export interface CliOptions {
  /** The server to talk to (ROSTER_SERVER); none: the variable is not set. */
  server?: TestServer;
  /** ROSTER_API_KEY; default: the server's admin key; null: not set. */
  key?: string | null;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
  /** More environment variables. */
  env?: Record<string, string>;
  /** XDG_CONFIG_HOME; default: a fresh empty folder, so that no config file of the machine leaks in. */
  configHome?: string;
  /** Called with all of stdout so far whenever more arrives (for commands that stream). */
  onStdout?: (stdout: string) => void;
}

/**
 * The environment of a CLI run: the test's own, without any ROSTER_*
 * variable that the machine may have set, plus the options.
 */
export function cliEnv(options: CliOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("ROSTER_") && v !== undefined) env[k] = v;
  }
  env.XDG_CONFIG_HOME = options.configHome ?? mkdtempSync(join(tmpdir(), "roster-cli-config-"));
  if (options.server) env.ROSTER_SERVER = options.server.url;
  const key = options.key === undefined ? options.server?.adminKey : options.key;
  if (key) env.ROSTER_API_KEY = key;
  return { ...env, ...options.env };
}

/** Run `roster args...` as a child process, with stdin not a terminal. */
export function roster(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [rosterMain, ...args], {
    cwd: projectRoot,
    env: cliEnv(options),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
    options.onStdout?.(stdout);
  });
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}

/** One step of a terminal session: wait until the screen shows `expect`, then type `send`. */
export interface TerminalStep {
  expect: string | RegExp;
  send: string;
}

/** What a terminal session showed: stdout and stderr together, as on a screen. */
export interface TerminalResult {
  code: number;
  screen: string;
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * Run `roster args...` on a pseudo-terminal (util-linux `script`), so that
 * stdin, stdout and stderr are terminals, and type into it step by step.
 */
export function rosterInTerminal(
  args: string[],
  steps: TerminalStep[],
  options: CliOptions & { stdoutFile?: string } = {},
): Promise<TerminalResult> {
  let command = [process.execPath, rosterMain, ...args].map(shellQuote).join(" ");
  // With stdoutFile, only stdout goes to the file; stdin and stderr stay on the terminal.
  if (options.stdoutFile) command += ` > ${shellQuote(options.stdoutFile)}`;
  // -q: no "Script started" lines; -f: flush at once; -e: exit with the command's code.
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: projectRoot,
    env: { ...cliEnv(options), TERM: "dumb", COLUMNS: "100", LINES: "40" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let step = 0;
  let seen = 0;
  const advance = () => {
    const next = steps[step];
    if (!next) return;
    const rest = screen.slice(seen);
    const match = typeof next.expect === "string" ? rest.indexOf(next.expect) : rest.search(next.expect);
    if (match < 0) return;
    seen += match + 1;
    step++;
    child.stdin.write(next.send);
    advance();
  };
  child.stdout.on("data", (d) => {
    screen += d;
    advance();
  });
  child.stderr.on("data", (d) => (screen += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`terminal session stuck at step ${step}; screen:\n${screen}`));
    }, 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen: screen.replaceAll("\r", "") });
    });
  });
}
