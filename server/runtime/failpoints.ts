/**
 * Failpoints for crash tests of multi-step operations: when
 * `ROSTER_FAILPOINTS` names a point (comma-separated), reaching it fails the
 * operation there, as a crash between two steps would. Unset in production.
 */
const enabled = new Set(
  (process.env.ROSTER_FAILPOINTS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

export function failpoint(name: string): void {
  if (enabled.has(name)) throw new Error(`failpoint ${name} reached`);
}

/** Whether `err` is a failpoint's simulated crash (nothing may be cleaned up after it). */
export function isFailpoint(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("failpoint ") && err.message.endsWith(" reached");
}
