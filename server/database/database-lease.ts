import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * Who owns the embedded database of a data folder: the Roster process that
 * started (and supervises) it, and where it listens. Kept in
 * `<data>/db/owner.json` while that process runs.
 */
export interface DatabaseLease {
  /** pid of the Roster process that owns the database. */
  ownerPid: number;
  /** The owner's start time (Linux /proc), so that a reused pid is not taken for the owner. */
  ownerStart?: string;
  kind?: "mongod" | "ferretdb";
  /** mongodb://127.0.0.1:<port>/, once the database listens. */
  uri?: string;
  /** pid of the database process, once started (it changes on a restart). */
  databasePid?: number;
}

const leaseFile = (dataDir: string) => join(dataDir, "owner.json");

/** The start time of process `pid` (field 22 of /proc/<pid>/stat), where /proc exists. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether process `pid` runs (and, when `start` is known, is the same process as then). */
export function processAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return start === undefined || processStart(pid) === undefined || processStart(pid) === start;
}

export function readLease(dataDir: string): DatabaseLease | undefined {
  try {
    const lease = JSON.parse(readFileSync(leaseFile(dataDir), "utf8")) as DatabaseLease;
    return typeof lease.ownerPid === "number" ? lease : undefined;
  } catch {
    return undefined;
  }
}

/** The lease of a live Roster process other than this one, if there is one. */
export function liveLease(dataDir: string): DatabaseLease | undefined {
  const lease = readLease(dataDir);
  if (!lease || lease.ownerPid === process.pid) return undefined;
  return processAlive(lease.ownerPid, lease.ownerStart) ? lease : undefined;
}

/**
 * Become the owner of the data folder's database. Returns undefined, and
 * changes nothing, when a live process owns it; otherwise returns the lease
 * left by a dead owner (whose database is stale), or an empty object.
 */
export function acquireLease(dataDir: string): { stale?: DatabaseLease } | undefined {
  const file = leaseFile(dataDir);
  const mine: DatabaseLease = { ownerPid: process.pid, ownerStart: processStart(process.pid) };
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      // Exclusive creation: of two processes starting at once, one wins.
      const fd = openSync(file, "wx");
      writeSync(fd, JSON.stringify(mine));
      closeSync(fd);
      return {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const current = readLease(dataDir);
    if (current && current.ownerPid !== process.pid && processAlive(current.ownerPid, current.ownerStart)) {
      return undefined;
    }
    if (!current) {
      // Being written right now by another process, or unreadable: look again shortly.
      const written = (() => {
        try {
          return readFileSync(file, "utf8").length > 0;
        } catch {
          return false;
        }
      })();
      if (!written && attempt < 5) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
    }
    // The owner is dead: take over by replacing its record in one step.
    const temp = `${file}.${process.pid}`;
    writeFileSync(temp, JSON.stringify(mine));
    renameSync(temp, file);
    if (readLease(dataDir)?.ownerPid === process.pid) return { stale: current };
  }
  return undefined;
}

/** Add what the owner knows now (URI, database pid) to its lease. */
export function updateLease(dataDir: string, fields: Partial<DatabaseLease>): void {
  const lease = readLease(dataDir);
  if (lease?.ownerPid !== process.pid) return;
  const temp = `${leaseFile(dataDir)}.${process.pid}`;
  writeFileSync(temp, JSON.stringify({ ...lease, ...fields }));
  renameSync(temp, leaseFile(dataDir));
}

/** Give the lease up (only this process's own). */
export function releaseLease(dataDir: string): void {
  if (readLease(dataDir)?.ownerPid === process.pid) rmSync(leaseFile(dataDir), { force: true });
}
