import type { Caller } from "./caller.js";

/**
 * Callers resolved from tokens, kept for a moment so that a client making
 * many calls with one token does not cost two database reads (the token and
 * its user) before each: on the embedded database those reads are most of
 * a GetUser's time.
 *
 * What this process changes takes effect at once: an entry is used only if
 * no write to users or tokens has been answered in this process since it
 * was read (the store's credentials generation). A change made through
 * another server process on the same database (a revoked key, a
 * deactivated user) takes effect here within the time to live
 * (`--credential-cache`, default 1 s; 0 turns the cache off). Tokens that
 * expire sooner are kept no longer than they live.
 */
export interface CallerCache {
  get(tokenHash: string, now: number): Caller | undefined;
  /** Keep `caller`, read when the generation was `generation`, until at most `expiresAt`. */
  set(tokenHash: string, caller: Caller, generation: number, expiresAt: number | undefined, now: number): void;
}

interface Entry {
  caller: Caller;
  generation: number;
  until: number;
}

/** Entries kept at most; the oldest go first. */
const maxEntries = 10_000;

export function createCallerCache(ttlMs: number, generation: () => number): CallerCache {
  const entries = new Map<string, Entry>();
  return {
    get(tokenHash, now) {
      if (ttlMs <= 0) return undefined;
      const entry = entries.get(tokenHash);
      if (!entry) return undefined;
      if (entry.generation !== generation() || entry.until <= now) {
        entries.delete(tokenHash);
        return undefined;
      }
      return entry.caller;
    },
    set(tokenHash, caller, readAt, expiresAt, now) {
      if (ttlMs <= 0 || readAt !== generation()) return;
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.delete(tokenHash);
      entries.set(tokenHash, { caller, generation: readAt, until: Math.min(now + ttlMs, expiresAt ?? Infinity) });
    },
  };
}
