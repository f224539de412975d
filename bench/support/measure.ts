/**
 * Measuring helpers: throughput with concurrent callers, latency, rounds
 * that interleave the operation and its ceiling (so that a machine that
 * speeds up or slows down weighs on both alike), and reports of
 * min / median / max and of ratios against targets.
 */

/** min, median and max of some values. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

/** Operations per second of `op` run by `callers` concurrent loops for `ms` milliseconds. */
export async function throughput(callers: number, ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  let n = 0;
  const stopAt = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < stopAt) {
        await op(n++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Median milliseconds of `times` sequential runs of `op`. */
export async function latency(times: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await op(i);
    samples.push(performance.now() - started);
  }
  return spread(samples).median;
}

/**
 * Run each measure once per round, in turn, for `rounds` rounds (after one
 * unrecorded warm-up round); the values of each measure, by round.
 */
export async function interleaved<K extends string>(
  rounds: number,
  measures: Record<K, () => Promise<number>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(measures) as K[];
  const values = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = -1; round < rounds; round++) {
    for (const name of names) {
      const value = await measures[name]();
      if (round >= 0) values[name].push(value);
    }
  }
  return values;
}

/** Per-round ratios a[i] / b[i]. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / (b[i] as number));
}

/** A target a reported value is checked against. */
export interface Target {
  /** "at least" or "at most". */
  op: ">=" | "<=";
  value: number;
}

/** One printed figure, kept for the summary and docs/performance.md. */
export interface Result {
  name: string;
  unit: string;
  spread: Spread;
  target?: Target;
  met?: boolean;
}

/** Every figure reported in this process, in order. */
export const results: Result[] = [];

function format(x: number, unit: string): string {
  if (unit === "x") return x.toFixed(2);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Print a figure as median [min .. max], with its target if it has one, and keep it. */
export function report(name: string, values: readonly number[], unit: string, target?: Target): Result {
  const s = spread(values);
  const met = target && (target.op === ">=" ? s.median >= target.value : s.median <= target.value);
  const result: Result = { name, unit, spread: s, target, met };
  results.push(result);
  const shown = `${format(s.median, unit)} ${unit} [${format(s.min, unit)} .. ${format(s.max, unit)}]`;
  const goal = target ? `  target ${target.op} ${target.value} ${unit}: ${met ? "ok" : "MISSED"}` : "";
  console.log(`  ${name.padEnd(58)} ${shown.padStart(30)}${goal}`);
  return result;
}

/** A markdown table of every result (for docs/performance.md). */
export function markdownTable(list: readonly Result[] = results): string {
  const lines = ["| measure | median | min .. max | target |", "|---|---|---|---|"];
  for (const r of list) {
    const target = r.target ? `${r.target.op} ${r.target.value} ${r.unit}: ${r.met ? "met" : "**missed**"}` : "";
    lines.push(
      `| ${r.name} | ${format(r.spread.median, r.unit)} ${r.unit} | ${format(r.spread.min, r.unit)} .. ${format(r.spread.max, r.unit)} | ${target} |`,
    );
  }
  return lines.join("\n");
}
