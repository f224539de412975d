import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Seals secrets that must wait in the database for a while (a queued email
 * carrying an invitation token or a temporary password) with AES-256-GCM,
 * under a key that is not in the database. `keyId` tells which key sealed a
 * record, so an instance never tries to open another key's records.
 */
export interface SecretBox {
  readonly keyId: string;
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("the secret key must be 32 bytes (base64 in ROSTER_SECRET_KEY)");
  const keyId = createHash("sha256").update(key).digest("base64url").slice(0, 12);
  return {
    keyId,
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
    },
    open(sealed) {
      const bytes = Buffer.from(sealed, "base64");
      const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
    },
  };
}

/**
 * The key from `ROSTER_SECRET_KEY` (base64 of 32 bytes), or from a key file
 * made on first use (mode 0600). Instances sharing a database should share
 * the key, or each delivers only the emails it queued itself.
 */
export function loadSecretKey(configured: string | undefined, keyFile: string): Buffer {
  if (configured) return Buffer.from(configured, "base64");
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(keyFile, 0o600);
  return Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64");
}
