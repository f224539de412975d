import { join } from "node:path";
import { type EmbeddedDatabase, startEmbeddedDatabase } from "./embedded-database.js";

/** Where the server's database may be: a URI, or the folders of an embedded one. */
export interface DatabaseLocation {
  /** MongoDB URI; without it an embedded database is started. */
  mongodbUri: string | undefined;
  /** Folder for the embedded database, the outbox and other state. */
  dataDir: string;
  /** Folder for the FerretDB build. */
  cacheDir: string;
}

/**
 * Where the server's database is: `MONGODB_URI`, or else the embedded
 * database of the data folder (`<data-dir>/db`), started here. The
 * database is `roster` unless the URI names one.
 */
export async function databaseUri(
  config: DatabaseLocation,
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
