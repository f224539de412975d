/** Longest token name; the same as the API's limit on API key names. */
const nameMaxChars = 100;

/** Matches `base` and `base-<n>`, the names `freeTokenName` derives from `base`. */
export function nameVariantPattern(base: string): RegExp {
  return new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(-\\d+)?$`);
}

/**
 * `base` if no name in `taken` is, else `base-<n>` with the smallest free
 * n from 2, `base` shortened so that the name stays within the limit.
 */
export function freeTokenName(base: string, taken: readonly string[]): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const name = [...base].slice(0, nameMaxChars - suffix.length).join("") + suffix;
    if (!used.has(name)) return name;
  }
}
