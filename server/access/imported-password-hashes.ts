import { scrypt, timingSafeEqual } from "node:crypto";
import bcrypt from "bcryptjs";

/**
 * Password hashes made by other systems, which users bring along when they
 * are imported: bcrypt and scrypt. They are verified as they are and
 * replaced by an Argon2id hash at the next successful login.
 */

const bcryptPattern = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** scrypt as a PHC string, as passlib writes it: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`. */
const scryptPhcPattern =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;

/** scrypt as Werkzeug writes it: `scrypt:32768:8:1$<salt>$<hex hash>`; the salt is used as text. */
const scryptWerkzeugPattern = /^scrypt(?::(\d{1,8}):(\d{1,3}):(\d{1,2}))?\$([^$]{1,64})\$([0-9a-f]{32,256})$/;

/** Largest scrypt cost accepted: N*r <= 2^19, 64 MiB of memory per verification. */
const maxScryptMemoryBlocks = 2 ** 19;
const maxScryptParallelism = 16;

interface ScryptHash {
  salt: Buffer;
  hash: Buffer;
  N: number;
  r: number;
  p: number;
}

function base64(text: string): Buffer {
  // passlib writes `.` where standard base64 has `+`.
  return Buffer.from(text.replaceAll(".", "+"), "base64");
}

function scryptProblem(N: number, r: number, p: number): string | undefined {
  if (!Number.isInteger(Math.log2(N)) || N < 2) return "scrypt N must be a power of 2 above 1";
  if (r < 1 || p < 1 || p > maxScryptParallelism)
    return `scrypt r must be at least 1 and p 1 to ${maxScryptParallelism}`;
  if (N * r > maxScryptMemoryBlocks) return "scrypt N*r must be at most 2^19 (64 MiB)";
  return undefined;
}

function parseScrypt(text: string): ScryptHash | string | undefined {
  const phc = scryptPhcPattern.exec(text);
  if (phc) {
    const [, ln, r, p, salt, hash] = phc as unknown as [string, string, string, string, string, string];
    const parsed = { N: 2 ** Number(ln), r: Number(r), p: Number(p), salt: base64(salt), hash: base64(hash) };
    if (parsed.hash.length < 16) return "scrypt hash must be at least 16 bytes";
    return scryptProblem(parsed.N, parsed.r, parsed.p) ?? parsed;
  }
  const werkzeug = scryptWerkzeugPattern.exec(text);
  if (werkzeug) {
    const [, N, r, p] = werkzeug;
    const salt = werkzeug[4] as string;
    const hash = werkzeug[5] as string;
    // Werkzeug's defaults when the method names no parameters.
    const parsed = {
      N: N ? Number(N) : 2 ** 15,
      r: r ? Number(r) : 8,
      p: p ? Number(p) : 1,
      salt: Buffer.from(salt, "utf8"),
      hash: Buffer.from(hash, "hex"),
    };
    if (hash.length % 2 !== 0) return "scrypt hash must be hexadecimal bytes";
    return scryptProblem(parsed.N, parsed.r, parsed.p) ?? parsed;
  }
  return undefined;
}

/** Whether `text` looks like a bcrypt or scrypt hash (valid or not). */
export function isImportedHash(text: string): boolean {
  return text.startsWith("$2") || text.startsWith("$scrypt$") || text.startsWith("scrypt");
}

/**
 * Why `text` is not a password hash Roster can verify, or undefined. Accepts
 * Argon2 PHC strings, bcrypt and scrypt (see UserRecord.password_hash).
 */
export function passwordHashProblem(text: string): string | undefined {
  if (text.length > 512) return "must be at most 512 characters";
  if (/^\$argon2(id|i|d)\$(v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(text)) return undefined;
  const bcryptMatch = bcryptPattern.exec(text);
  if (bcryptMatch) {
    const cost = Number(bcryptMatch[1]);
    return cost >= 4 && cost <= 31 ? undefined : "bcrypt cost must be 4 to 31";
  }
  const scryptHash = parseScrypt(text);
  if (typeof scryptHash === "string") return scryptHash;
  if (scryptHash) return undefined;
  return "must be an Argon2 PHC string, a bcrypt hash ($2a$, $2b$, $2y$) or an scrypt hash ($scrypt$... or scrypt:N:r:p$...)";
}

function scryptAsync(password: string, s: ScryptHash): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      Buffer.from(password, "utf8"),
      s.salt,
      s.hash.length,
      { N: s.N, r: s.r, p: s.p, maxmem: 128 * s.r * (s.N + s.p + 2) + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** Whether `password` matches an imported bcrypt or scrypt hash. */
export async function verifyImportedHash(text: string, password: string): Promise<boolean> {
  if (bcryptPattern.test(text)) return bcrypt.compare(password, text).catch(() => false);
  const scryptHash = parseScrypt(text);
  if (!scryptHash || typeof scryptHash === "string") return false;
  const key = await scryptAsync(password, scryptHash);
  return timingSafeEqual(key, scryptHash.hash);
}
