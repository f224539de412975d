import type { FileRegistry } from "@bufbuild/protobuf";
import type { Argv, CommandModule } from "yargs";
import { findService } from "./descriptors.js";
import { descriptionOf, summaryOf } from "./proto-comments.js";
import { rpcCommand } from "./rpc-command.js";
import type { RpcCommandSpec } from "./rpc-spec.js";

/** A command with subcommands, such as `roster users`, usually the methods of one service. */
export interface CommandGroupSpec {
  command: string;
  aliases?: readonly string[];
  /** The service whose comment is the group's help (`roster.v1.UserRegistry`). */
  service?: string;
  /** Help text instead of the service's comment. */
  describe?: string;
  commands: readonly (RpcCommandSpec | CommandGroupSpec)[];
}

function isGroup(spec: RpcCommandSpec | CommandGroupSpec): spec is CommandGroupSpec {
  return "commands" in spec;
}

/** `parents`: the commands above this one (`users` for `users api-keys`), for the usage lines. */
export function commandGroup(registry: FileRegistry, spec: CommandGroupSpec, parents = ""): CommandModule {
  const path = `${parents}${spec.command}`;
  const service = spec.service ? findService(registry, spec.service) : undefined;
  const summary = spec.describe ?? (service ? summaryOf(service) : "");
  const description = spec.describe ?? (service ? descriptionOf(service) : "");
  return {
    command: spec.command,
    aliases: spec.aliases ?? [],
    describe: summary,
    builder: (yargs: Argv) => {
      let y = yargs.usage(`$0 ${path} <command>\n\n${description}`);
      for (const sub of spec.commands) {
        y = y.command(isGroup(sub) ? commandGroup(registry, sub, `${path} `) : rpcCommand(registry, sub, `${path} `));
      }
      // A group with a default command (`$0` among its names) runs it when no subcommand is named.
      const hasDefault = spec.commands.some((c) => !isGroup(c) && [c.command].flat().includes("$0"));
      return hasDefault ? y : y.demandCommand(1, `name a command of ${spec.command}`);
    },
    handler: () => {},
  };
}
