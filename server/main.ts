#!/usr/bin/env -S node --max-semi-space-size=8
// First: it sets the garbage collector up before the other modules allocate.
import "./runtime/heap-settings.js";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ensureSystemUser, systemActor } from "./access/system-user.js";
import { startServer } from "./app.js";
import { configFromOptions } from "./config.js";
import { configOptions } from "./config-options.js";
import { databaseUri } from "./database/database-uri.js";
import { createLogger } from "./runtime/log.js";
import { openStore } from "./store/store.js";
import { bootstrapAdmin } from "./users/bootstrap-admin.js";
import { userIdProblem } from "./validation/user-validation.js";

await yargs(hideBin(process.argv))
  .scriptName("roster-server")
  .strict()
  .command(
    ["serve", "$0"],
    "Serve the Roster API (gRPC, gRPC-Web and Connect) until SIGTERM or SIGINT",
    (y) => configOptions(y),
    async (argv) => {
      const config = configFromOptions(argv);
      const log = createLogger(config.logLevel);
      const server = await startServer(config, log);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, "shutting down");
        server.stop().then(
          () => {
            log.info("stopped");
            process.exit(0);
          },
          (err) => {
            log.error({ err }, "unclean shutdown");
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    },
  )
  .command(
    "bootstrap-admin",
    "Create (or reuse) an approved admin and print a fresh API key for it as one JSON line",
    (y) =>
      configOptions(y)
        .option("user-id", { type: "string", default: "admin", describe: "id of the admin user" })
        .option("email", {
          type: "string",
          default: "admin@localhost",
          describe: "email address, if the user is created",
        }),
    async (argv) => {
      const problem = userIdProblem(argv["user-id"]);
      if (problem) throw new Error(`--user-id ${problem}`);
      if (argv["user-id"] === systemActor) throw new Error("--user-id system names the built-in system user");
      const config = configFromOptions(argv);
      const log = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
      // A running server keeps its database; this command uses it.
      const { uri, embedded } = await databaseUri(config, (msg) => log.info(msg), { shareRunning: true });
      const store = await openStore(uri);
      try {
        await store.ensureIndexes();
        await ensureSystemUser(store);
        const admin = await bootstrapAdmin(store, { userId: argv["user-id"], email: argv.email });
        process.stdout.write(
          `${JSON.stringify({ user_id: admin.userId, api_key: admin.apiKey, created: admin.created })}\n`,
        );
      } finally {
        await store.close();
        await embedded?.stop();
      }
    },
  )
  .help()
  .parseAsync();
