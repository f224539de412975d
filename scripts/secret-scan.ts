import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Roster's token formats (prefix, 32 base62 characters and a 6-character
 * checksum) and webhook signing secrets (`whsec_` and base64).
 */
const tokenPattern = /rst_(?:ak|lt|iv|pr|ev)_[0-9A-Za-z]{38}|whsec_[A-Za-z0-9+/]{20,}/g;

/** String literals the tests use as passwords. */
function testPasswords(testDir: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) visit(path);
      else if (e.name.endsWith(".js")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(
          /(?:password|new_password|old_password|newPassword|oldPassword)\s*:\s*"([^"]{8,})"/g,
        )) {
          found.add(m[1] as string);
        }
      }
    }
  };
  visit(testDir);
  return [...found];
}

/**
 * Look for secrets in the structured logs that test servers wrote: any
 * token, and any password the tests use. Returns one line per finding.
 */
export function scanLogsForSecrets(logDir: string, testDir: string): { files: number; findings: string[] } {
  const passwords = testPasswords(testDir);
  const findings: string[] = [];
  const files = readdirSync(logDir).filter((f) => f.endsWith(".log"));
  for (const file of files) {
    const text = readFileSync(join(logDir, file), "utf8");
    for (const m of text.matchAll(tokenPattern)) findings.push(`${file}: token ${m[0].slice(0, 10)}...`);
    for (const p of passwords) if (text.includes(p)) findings.push(`${file}: password "${p.slice(0, 3)}..."`);
  }
  return { files: files.length, findings };
}
