import { createHash, randomBytes } from "node:crypto";

/**
 * Kinds of secrets Roster hands out, with the prefix that makes them
 * recognisable (to people, log scrubbers and secret scanners).
 */
export const tokenPrefixes = {
  apiKey: "rst_ak_",
  login: "rst_lt_",
  invitation: "rst_iv_",
  passwordReset: "rst_pr_",
  emailValidation: "rst_ev_",
} as const;

export type TokenKind = keyof typeof tokenPrefixes;

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(bytes: Uint8Array, length: number): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
  let out = "";
  while (out.length < length) {
    out = alphabet[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

const crcTable = Array.from({ length: 256 }, (_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let c = 0xffffffff;
  for (const byte of Buffer.from(text, "utf8")) c = (crcTable[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  const n = crc32(body);
  return base62(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), 6);
}

/** Length of the random part: 32 base62 characters carry 190 bits. */
const secretLength = 32;

/**
 * A new secret: prefix, 190 random bits in base62 and a 6-character CRC-32
 * checksum, such as `rst_ak_3xF...9Qa1b2c3`.
 */
export function newToken(kind: TokenKind): string {
  const body = tokenPrefixes[kind] + base62(randomBytes(24), secretLength);
  return body + checksum(body);
}

/**
 * The kind of a well-formed token with a valid checksum, or undefined. Lets
 * the server reject garbage without touching the database.
 */
export function tokenKind(token: string): TokenKind | undefined {
  for (const [kind, prefix] of Object.entries(tokenPrefixes) as [TokenKind, string][]) {
    if (!token.startsWith(prefix)) continue;
    if (token.length !== prefix.length + secretLength + 6) return undefined;
    const body = token.slice(0, -6);
    return checksum(body) === token.slice(-6) ? kind : undefined;
  }
  return undefined;
}

/** What is stored instead of a token: its SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A short random id for stored records (API keys, invitations). */
export function newRecordId(prefix: string): string {
  return prefix + base62(randomBytes(10), 13).toLowerCase();
}

/** Whether `text` has the form of a `newRecordId(prefix)`. */
export function isRecordId(prefix: string, text: string): boolean {
  return text.startsWith(prefix) && /^[0-9a-z]{13}$/.test(text.slice(prefix.length));
}

/**
 * Whether `token` may be an access token imported from another system
 * (UserRecord.api_key): 16 to 512 printable ASCII characters without
 * Roster's prefixes. Such a token is looked up by its hash like an API key.
 */
export function isImportedTokenShape(token: string): boolean {
  return /^[\x21-\x7e]{16,512}$/.test(token) && !token.startsWith("rst_");
}
