import type { FileRegistry } from "@bufbuild/protobuf";
import yargs, { type Argv } from "yargs";
import { commandGroup } from "./command-group.js";
import { configCommand } from "./commands/config.js";
import { eventsCommands } from "./commands/events.js";
import { healthCommands } from "./commands/health.js";
import { loginCommand, logoutCommand } from "./commands/login.js";
import { usersCommands } from "./commands/users.js";
import { webhooksCommands } from "./commands/webhooks.js";
import type { ConfigKey } from "./config-file.js";
import { loadRegistry } from "./descriptors.js";
import { errorLine, exitCodeOf, exitCodes, exitCodeTable, UsageError } from "./errors.js";
import { rpcCommand } from "./rpc-command.js";
import { globalOptionHelp, globalOptions } from "./settings.js";

const shells = { bash: "/bin/bash", zsh: "/bin/zsh" } as const;

function epilogue(): string {
  const codes = exitCodeTable.map(([code, meaning]) => `  ${String(code).padEnd(3)} ${meaning}`).join("\n");
  return `Exit codes:\n${codes}\n\nMore in docs/cli.md.`;
}

/** Run `roster` with `args`; resolves with the exit code. */
export async function main(args: string[], version: string): Promise<number> {
  // yargs picks the completion script by $SHELL; `roster completion zsh` names the shell instead.
  const shell = args[0] === "completion" ? args[1] : undefined;
  if (shell === "bash" || shell === "zsh") process.env.SHELL = shells[shell];

  let registry: FileRegistry | undefined;
  try {
    registry = loadRegistry();
    let cli: Argv = yargs(args)
      .scriptName("roster")
      .usage("$0 <command>\n\nManage a Roster identity registry from the shell. Every command has --help.")
      .parserConfiguration({
        // Flag names are proto paths: keep "a.b" flat and "--x A --x B" repeated, not greedy.
        "dot-notation": false,
        "greedy-arrays": false,
        "camel-case-expansion": false,
      })
      .strict()
      .version(version)
      .help()
      .alias("h", "help")
      .wrap(Math.min(120, process.stdout.columns || 100))
      .fail((message, err) => {
        // Validation (message only) and coerce errors (YError) are usage errors;
        // anything else was thrown by a command and keeps its own exit code.
        if (err && err.name !== "YError") throw err;
        const text = message ?? err?.message ?? "invalid command line";
        throw new UsageError(text.startsWith("Did you mean") ? `unknown command. ${text}` : text);
      })
      .epilogue(epilogue());
    for (const key of Object.keys(globalOptions) as ConfigKey[]) {
      cli = cli.option(key, { ...globalOptionHelp(key), global: true, group: "Connection and output:" });
    }
    await cli
      .command(commandGroup(registry, usersCommands))
      .command(commandGroup(registry, eventsCommands))
      .command(commandGroup(registry, webhooksCommands))
      .command(rpcCommand(registry, loginCommand))
      .command(rpcCommand(registry, logoutCommand))
      .command(commandGroup(registry, healthCommands))
      .command(configCommand)
      .command(
        "completion [shell]",
        "Print a completion script for bash or zsh",
        (y: Argv) =>
          y
            .positional("shell", { choices: Object.keys(shells), describe: "the shell (default: the one of $SHELL)" })
            .usage(
              "$0 completion [shell]\n\nPrint a completion script. Load it in the current shell with\n" +
                "  source <(roster completion bash)\nor add that line to ~/.bashrc (~/.zshrc for zsh).",
            ),
        () => {
          cli.showCompletionScript();
        },
      )
      // The script calls `roster --get-yargs-completions ...`; this hidden
      // registration makes yargs answer it. The command above prints the script.
      .completion("__complete", false)
      .demandCommand(1, "name a command")
      .recommendCommands()
      .parseAsync();
    return exitCodes.ok;
  } catch (err) {
    const code = exitCodeOf(err);
    const usage = code === exitCodes.usage ? " (see --help)" : "";
    process.stderr.write(`${errorLine(err, registry)}${usage}\n`);
    return code;
  }
}
