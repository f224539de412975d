import stringWidth from "string-width";

/**
 * Columns padded to their widest cell, separated by two spaces, as kubectl
 * prints them. Widths count terminal columns, so that names in CJK scripts
 * or with emoji line up.
 */
export function renderTable(columns: readonly string[], rows: readonly Record<string, string>[]): string {
  const widths = columns.map((c) => Math.max(stringWidth(c), ...rows.map((r) => stringWidth(r[c] ?? ""))));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - stringWidth(cell))))
      .join("  ")}\n`;
  return line(columns) + rows.map((r) => line(columns.map((c) => r[c] ?? ""))).join("");
}
