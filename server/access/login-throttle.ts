import type { LoginAttemptsStore } from "../store/login-attempts-store.js";

/** When failed logins lock an account, and for how long. */
export interface ThrottlePolicy {
  /** Password checks within `windowMs` after which the account locks. Default 10. */
  maxFailures: number;
  /** How far back attempts count. Default 15 minutes. */
  windowMs: number;
  /** Lock after the `maxFailures`-th failure; doubles with each further one. Default 1 minute. */
  lockoutMs: number;
  /** Longest lock. Default 1 hour. */
  maxLockoutMs: number;
}

export interface LoginThrottle {
  /**
   * Count an attempt on the account before its password is checked.
   * False: the account is locked and the password must not be checked.
   */
  admit(account: string, now?: Date): Promise<boolean>;
  /** The reads of `admit` for a name that has no account, storing nothing (equal timing). */
  readNothing(now?: Date): Promise<void>;
  /** Forget the account's attempts (the password was right). */
  reset(account: string): Promise<void>;
}

/** How often an attempt re-reads after losing its sequence number to another one before it gives up. */
const maxRounds = 64;

/**
 * Per-account throttling of password guesses, counted before the password
 * is checked: at most `maxFailures` attempts are checked per window, then
 * one more per lockout (which doubles each time), however many arrive at
 * once and on however many server instances. Attempts are counted in the
 * database (see login-attempts-store.ts) and forgotten after a success.
 */
export function createLoginThrottle(store: LoginAttemptsStore, policy: ThrottlePolicy): LoginThrottle {
  // Enough attempts to reach the longest lock; counting further changes nothing.
  const cap = policy.maxFailures + 1 + Math.ceil(Math.log2(Math.max(1, policy.maxLockoutMs / policy.lockoutMs)));

  function locked(count: number, latest: Date | null, now: Date): boolean {
    if (count < policy.maxFailures || !latest) return false;
    const lockout = Math.min(policy.maxLockoutMs, policy.lockoutMs * 2 ** Math.min(30, count - policy.maxFailures));
    return now.getTime() < latest.getTime() + lockout;
  }

  return {
    async admit(account, now = new Date()) {
      for (let round = 0; round < maxRounds; round++) {
        const { count, latest, seq } = await store.recent(account, new Date(now.getTime() - policy.windowMs), cap);
        if (locked(count, latest, now)) return false;
        if (await store.claim(account, seq + 1, now)) return true;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (round + 1))));
      }
      // So contended that it never got a number: treat as locked.
      return false;
    },
    async readNothing(now = new Date()) {
      await store.recent("x:", new Date(now.getTime() - policy.windowMs), cap);
    },
    reset: (account) => store.reset(account),
  };
}
