#!/usr/bin/env node
/**
 * `roster`, the command-line client of Roster. `--version` is answered
 * before anything else is loaded: yargs, protobuf and connect take longer
 * to import than node takes to start (see bench/cli-startup.ts).
 */
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${version}\n`);
} else {
  // `roster users list --all-pages | head`: a reader that leaves early is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  const { main } = await import("./app.js");
  const code = await main(args, version);
  // Exit once stdout is flushed (it is asynchronous when it is a pipe on some
  // systems); exiting rather than waiting also ends idle HTTP/2 sessions.
  process.stdout.write("", () => process.exit(code));
}
