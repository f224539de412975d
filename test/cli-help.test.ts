import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "../server/runtime/paths.js";
import { cliEnv, roster, rosterMain } from "./support/cli.js";

/** What `roster` says about itself, without a server. */
describe("roster help, version and completion", () => {
  const version = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

  it("prints the package version with --version", async () => {
    const res = await roster(["--version"]);
    assert.equal(res.code, 0);
    assert.equal(res.stdout, `${version}\n`);
  });

  it("lists the commands and the table of exit codes in --help", async () => {
    const res = await roster(["--help"]);
    assert.equal(res.code, 0);
    for (const command of ["users", "health", "config", "completion"]) {
      assert.match(res.stdout, new RegExp(`^ +roster ${command}\\b`, "m"));
    }
    assert.match(res.stdout, /Exit codes:\n +0 +success\n +1 +other errors\n +2 +usage error/);
    assert.match(res.stdout, /^ +7 +UNAVAILABLE, DEADLINE_EXCEEDED/m);
  });

  it("names where each connection setting can come from", async () => {
    const res = await roster(["users", "list", "--help"]);
    assert.match(
      res.stdout.replace(/\s+/g, " "),
      /--server URL of the Roster server \(env ROSTER_SERVER; config server; default http:\/\/127\.0\.0\.1:8080\)/,
    );
  });

  it("explains on search which flags filter and which select", async () => {
    const help = (await roster(["users", "search", "--help"])).stdout.replace(/\s+/g, " ");
    assert.match(
      help,
      /Here --state, --admin with a value filter the request; without a value, or with --select-state, --select-admin/,
    );
  });

  it("says what a read returns without field flags", async () => {
    const help = (await roster(["users", "get", "--help"])).stdout.replace(/\s+/g, " ");
    assert.match(help, /Without field flags, --all or --field-mask, only user_id is asked for/);
  });

  it("shows the whole command in the usage line of a subcommand", async () => {
    const res = await roster(["users", "update", "--help"]);
    assert.match(res.stdout, /^roster users update <user-id>\n/);
  });

  for (const shell of ["bash", "zsh"]) {
    it(`prints a ${shell} completion script that asks roster for completions`, async () => {
      const res = await roster(["completion", shell]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /roster --get-yargs-completions/);
      if (shell === "zsh") assert.match(res.stdout, /^#compdef roster/);
      else assert.match(res.stdout, /complete -o bashdefault -o default -F _roster_yargs_completions roster/);
    });
  }

  it("completes subcommands and the flags derived from the descriptors", async () => {
    const commands = await roster(["--get-yargs-completions", "roster", "users", ""]);
    assert.deepEqual(commands.stdout.trim().split("\n").slice(0, 3), ["create", "invite", "get"]);
    const flags = await roster(["--get-yargs-completions", "roster", "users", "update", "x", "--"]);
    const offered = flags.stdout.trim().split("\n");
    for (const flag of ["--name", "--state", "--primary-email-address-validated-at", "--unset", "--etag"]) {
      assert.ok(offered.includes(flag), `${flag} in ${offered.join(" ")}`);
    }
  });

  it("completes in bash through the script it prints", async () => {
    // Source the script in bash and run its completion function, as pressing Tab would.
    const script = (await roster(["completion", "bash"])).stdout;
    const shim = `roster() { ${JSON.stringify(process.execPath)} ${JSON.stringify(rosterMain)} "$@"; }`;
    const out = execFileSync(
      "bash",
      [
        "-c",
        `${shim}\n${script}\nCOMP_WORDS=(roster users sea); COMP_CWORD=2; _roster_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { env: cliEnv({}), encoding: "utf8" },
    );
    assert.equal(out.trim(), "search");
  });
});
