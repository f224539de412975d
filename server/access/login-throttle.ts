import type { LoginAttemptsStore } from "../store/login-attempts-store.js";

/** When failed logins lock an account, and for how long. */
export interface ThrottlePolicy {
  /** Failures within `windowMs` that lock the account. Default 10. */
  maxFailures: number;
  /** How far back failures count. Default 15 minutes. */
  windowMs: number;
  /** Lock after the `maxFailures`-th failure; doubles with each further one. Default 1 minute. */
  lockoutMs: number;
  /** Longest lock. Default 1 hour. */
  maxLockoutMs: number;
}

export const defaultThrottlePolicy: ThrottlePolicy = {
  maxFailures: 10,
  windowMs: 15 * 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 3_600_000,
};

export interface LoginThrottle {
  /** Whether the account refuses attempts now. */
  isLocked(account: string, now?: Date): Promise<boolean>;
  recordFailure(account: string, now?: Date): Promise<void>;
  reset(account: string): Promise<void>;
}

/**
 * Per-account throttling of password guesses. State lives in the database
 * (one document per failure), so every server instance sees the same count.
 */
export function createLoginThrottle(store: LoginAttemptsStore, policy: ThrottlePolicy): LoginThrottle {
  return {
    async isLocked(account, now = new Date()) {
      const { count, latest } = await store.failuresSince(account, new Date(now.getTime() - policy.windowMs));
      if (count < policy.maxFailures || !latest) return false;
      const lockout = Math.min(policy.maxLockoutMs, policy.lockoutMs * 2 ** Math.min(30, count - policy.maxFailures));
      return now.getTime() < latest.getTime() + lockout;
    },
    recordFailure: (account, now = new Date()) => store.recordFailure(account, now),
    reset: (account) => store.reset(account),
  };
}
