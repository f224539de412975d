import { join } from "node:path";
import type { Config } from "../config.js";
import { type EmbeddedDatabase, startEmbeddedDatabase } from "./embedded-database.js";

/**
 * Where the server's database is: `MONGODB_URI`, or else the embedded
 * database of the data folder (`<data-dir>/db`), started here. The
 * database is `roster` unless the URI names one.
 */
export async function databaseUri(
  config: Pick<Config, "mongodbUri" | "dataDir" | "cacheDir">,
  log: (msg: string) => void,
  options: { onExit?: () => void; shareRunning?: boolean } = {},
): Promise<{ uri: string; embedded?: EmbeddedDatabase }> {
  if (config.mongodbUri) return { uri: config.mongodbUri };
  const embedded = await startEmbeddedDatabase({
    dataDir: join(config.dataDir, "db"),
    cacheDir: config.cacheDir,
    log,
    ...options,
  });
  return { uri: `${embedded.uri}roster`, embedded };
}
