const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parse a duration such as `500ms`, `90s`, `15m`, `24h`, `7d` or `1h30m`
 * into milliseconds. A bare number is taken as milliseconds.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (end === 0 || end !== trimmed.length) {
    throw new Error(`invalid duration "${text}": use a number with a unit, such as 90s, 15m, 24h or 7d`);
  }
  return Math.round(total);
}
