import type { FileRegistry } from "@bufbuild/protobuf";
import type { Argv, CommandModule, Options } from "yargs";
import { bareAllowed, bareFiltersSelect, type CommandFlags, deriveFlags } from "./command-flags.js";
import { fieldAt, findMethod } from "./descriptors.js";
import { type FieldFlag, flagName } from "./field-flags.js";
import { type MethodShape, shapeOf } from "./method-shape.js";
import { descriptionOf, summaryOf } from "./proto-comments.js";
import { runCommand } from "./rpc-run.js";
import { argName, argPath, isOptional, type RpcCommandSpec } from "./rpc-spec.js";

const groups = {
  select: "Fields to return:",
  set: "Fields to set:",
  request: "Request options:",
  command: "Options:",
};

/**
 * Turn a declared command (see rpc-spec.ts) into a yargs command module;
 * `parents` prefix its usage line (`users `).
 */
export function rpcCommand(registry: FileRegistry, spec: RpcCommandSpec, parents = ""): CommandModule {
  const method = findMethod(registry, spec.rpc);
  const shape = shapeOf(method, spec);
  // Derived when the command runs or shows its help, not for every command at start-up.
  let derived: CommandFlags | undefined;
  const flagsOf = () => {
    derived ??= deriveFlags(spec, shape);
    return derived;
  };
  const [name, ...aliases] = typeof spec.command === "string" ? [spec.command] : spec.command;
  const args = (spec.args ?? []).map(argName);
  const positionals = args.map((a, i) => {
    if (spec.many && i === args.length - 1) return `<${a}..>`;
    return isOptional((spec.args ?? [])[i] as string) ? `[${a}]` : `<${a}>`;
  });
  const describe = [spec.describe ?? descriptionOf(method), spec.extraHelp].filter(Boolean).join("\n\n");

  return {
    command: [name, ...positionals].join(" "),
    aliases,
    describe: spec.describe ?? summaryOf(method),
    builder: (yargs: Argv) => {
      const flags = flagsOf();
      let y = yargs.usage(`$0 ${parents}${[name, ...positionals].join(" ")}\n\n${describe}`);
      (spec.args ?? []).forEach((arg, i) => {
        const field = fieldAt(method.input, argPath(arg));
        y = y.positional(flags.args[i] as string, {
          type: "string",
          describe: descriptionOf(field).replace(/\s+/g, " "),
        });
      });
      const add = (list: FieldFlag[], group: string) => {
        for (const flag of list)
          y = y.option(flag.name, { ...flag.option, group, ...aliasOption(flags.aliases.get(flag.name)) });
      };
      // A filter flag that holds a field's name also selects that field when
      // given without a value, as The Things Stack's field flags do.
      const bareSelects = new Set(flags.renamedSelect.map((f) => flagName(f.path)));
      add(
        flags.request.map((f) => (bareSelects.has(f.name) ? { ...f, option: bareAllowed(f.option) } : f)),
        groups.request,
      );
      add(flags.set, groups.set);
      if (flags.etag) add([flags.etag], groups.request);
      add(flags.select, groups.select);
      for (const [flag, option] of Object.entries(flags.fixed))
        y = y.option(flag, { ...option, group: groups.command, ...aliasOption(flags.aliases.get(flag)) });
      if (spec.records) {
        // Here --output names the file; the format is --format (see settings.ts).
        y = y.option("output", { type: "string", requiresArg: true, describe: "file to write; default: stdout" });
      }
      return y.epilogue(epilogue(spec, shape, flags));
    },
    handler: async (argv) => runCommand(registry, spec, shape, flagsOf(), bareFiltersSelect(flagsOf(), argv)),
  };
}

function aliasOption(aliases: string[] | undefined): Options {
  return aliases ? { alias: aliases } : {};
}

function epilogue(spec: RpcCommandSpec, shape: MethodShape, flags: CommandFlags): string {
  const notes: string[] = [];
  if (shape.readMask && shape.selectType && spec.records) {
    notes.push(
      "Without field flags or --field-mask, every field is asked for; with them, a CSV has a column for each field asked for.",
    );
  } else if (shape.readMask && shape.selectType) {
    const first = shape.selectType.fields[0]?.name;
    notes.push(
      `Without field flags, --all or --field-mask, only ${first} is asked for (the server adds the fields it always returns).`,
    );
  }
  if (flags.renamedSelect.length > 0) {
    const filters = flags.renamedSelect.map((f) => `--${flagName(f.path)}`).join(", ");
    const renamed = flags.renamedSelect.map((f) => `--${f.name}`).join(", ");
    const others = spec.records ? "--field-mask" : "--all, --field-mask";
    notes.push(
      `Here ${filters} with a value filter the request; without a value, or with ${renamed} (or ${others}), they return those fields.`,
    );
  }
  if (shape.updateMask)
    notes.push("Only the fields given by flags (and --unset) are changed: they form the update mask.");
  return notes.join("\n");
}
