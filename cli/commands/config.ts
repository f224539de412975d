import type { Argv, CommandModule } from "yargs";
import { parseDuration } from "../../shared/duration.js";
import {
  type ConfigKey,
  configFilePath,
  configKeys,
  isConfigKey,
  readConfigFile,
  writeConfigFile,
} from "../config-file.js";
import { CliError, exitCodes, UsageError } from "../errors.js";
import { createPrinter } from "../output.js";
import { outputFormats, protocols, resolveSettings } from "../settings.js";

const keyList = Object.keys(configKeys).join(", ");

function checkKey(key: string): ConfigKey {
  if (!isConfigKey(key)) throw new UsageError(`unknown key ${key}; the keys are ${keyList}`);
  return key;
}

/** Refuse values that would make every later command fail. */
function checkValue(key: ConfigKey, value: string): string {
  const fail = (expected: string) => new UsageError(`${key} must be ${expected}, not "${value}"`);
  switch (key) {
    case "server":
      if (!/^https?:\/\/[^/]+/.test(value)) throw fail("an http:// or https:// URL");
      return value.replace(/\/+$/, "");
    case "protocol":
      if (!(protocols as readonly string[]).includes(value)) throw fail(`one of ${protocols.join(", ")}`);
      return value;
    case "output":
      if (!(outputFormats as readonly string[]).includes(value)) throw fail(`one of ${outputFormats.join(", ")}`);
      return value;
    case "insecure":
      if (!/^(true|false)$/.test(value)) throw fail("true or false");
      return value;
    case "timeout":
      try {
        parseDuration(value);
      } catch {
        throw fail("a duration such as 30s or 2m");
      }
      return value;
    default:
      return value;
  }
}

/** An API key shown in a listing: enough to recognise it, not to use it. */
function masked(key: ConfigKey, value: string): string {
  return key === "api-key" && value.length > 12 ? `${value.slice(0, 10)}…(hidden; config get api-key shows it)` : value;
}

const keyHelp = Object.entries(configKeys)
  .map(([key, help]) => `  ${key.padEnd(10)} ${help}`)
  .join("\n");

export const configCommand: CommandModule = {
  command: "config",
  describe: "Read and change the CLI's settings file",
  builder: (yargs: Argv) =>
    yargs
      .usage(
        `$0 config <command>\n\nSettings are read from ${configFilePath()} ($XDG_CONFIG_HOME/roster/config.yaml), ` +
          "written readable by its owner only. Flags win over ROSTER_* variables, variables over this file.\n\n" +
          `Keys:\n${keyHelp}`,
      )
      .command(
        "get [key]",
        "Print one setting, or every setting of the file",
        (y: Argv) => y.positional("key", { type: "string", describe: `one of ${keyList}` }),
        async (argv) => {
          const values = await readConfigFile();
          if (argv.key === undefined) {
            const shown = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, masked(k as ConfigKey, v)]));
            (await createPrinter((await resolveSettings(argv)).output)).value(shown);
            return;
          }
          const value = values[checkKey(String(argv.key))];
          // Like `git config`: an unset key prints nothing and fails, so scripts can test for it.
          if (value === undefined)
            throw new CliError(`${argv.key} is not set in ${configFilePath()}`, exitCodes.failure);
          process.stdout.write(`${value}\n`);
        },
      )
      .command(
        "set <key> <value>",
        "Change one setting",
        (y: Argv) =>
          y
            .positional("key", { type: "string", describe: `one of ${keyList}` })
            .positional("value", { type: "string", describe: "the new value" }),
        async (argv) => {
          const key = checkKey(String(argv.key));
          const values = await readConfigFile();
          values[key] = checkValue(key, String(argv.value));
          await writeConfigFile(values);
        },
      )
      .command(
        "unset <key>",
        "Remove one setting from the file",
        (y: Argv) => y.positional("key", { type: "string", describe: `one of ${keyList}` }),
        async (argv) => {
          const key = checkKey(String(argv.key));
          const values = await readConfigFile();
          delete values[key];
          await writeConfigFile(values);
        },
      )
      .command(
        "path",
        "Print where the settings file is",
        () => {},
        () => {
          process.stdout.write(`${configFilePath()}\n`);
        },
      )
      .demandCommand(1, "name a command of config"),
  handler: () => {},
};
