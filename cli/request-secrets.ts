import type { JsonObject } from "@bufbuild/protobuf";
import type { CommandFlags } from "./command-flags.js";
import { UsageError } from "./errors.js";
import { setJsonPath } from "./field-flags.js";
import { ask, askNewSecret, canPrompt, readStdin } from "./prompt.js";
import type { SecretSpec } from "./rpc-spec.js";

/**
 * Put the command's secrets into the request: from stdin when their
 * `--<field>-stdin` flag is given (several come one per line), else typed
 * on the terminal. Returns notes for stderr about secrets left out.
 */
export async function fillSecrets(
  json: JsonObject,
  secrets: readonly SecretSpec[],
  flags: CommandFlags,
  argv: Record<string, unknown>,
): Promise<string[]> {
  const notes: string[] = [];
  const stdinFlag = (secret: SecretSpec) => flags.secretFlags.get(secret.field) as string;
  const fromStdin = secrets.filter((secret) => argv[stdinFlag(secret)] === true);
  // Several secrets from stdin (old and new password) come one per line.
  const lines = fromStdin.length > 1 ? (await readStdin()).split(/\r?\n/) : undefined;
  for (const secret of secrets) {
    const line = lines ? (lines[fromStdin.indexOf(secret)] ?? "") : undefined;
    const { value, note } = await readSecret(secret, stdinFlag(secret), argv[stdinFlag(secret)] === true, line);
    if (value !== "") setJsonPath(json, secret.field, value);
    if (note) notes.push(note);
  }
  return notes;
}

/** A copy of the request without its secrets, for code that runs after the call. */
export function withoutSecrets(json: JsonObject, secrets: readonly SecretSpec[]): JsonObject {
  const copy = { ...json };
  for (const secret of secrets) delete copy[secret.field];
  return copy;
}

/** A secret from stdin or typed on the terminal; empty, with a note, when there is none to read. */
async function readSecret(
  secret: SecretSpec,
  stdinFlag: string,
  fromStdin: boolean,
  /** Its line of stdin, when several secrets are read from there. */
  line?: string,
): Promise<{ value: string; note?: string }> {
  const label = secret.label.toLowerCase();
  if (fromStdin) {
    const value = line ?? (await readStdin());
    if (value === "" && !secret.optional) throw new UsageError(`no ${label} on stdin`);
    return { value };
  }
  if (secret.prompt === false) {
    if (!secret.optional) throw new UsageError(`${label} needed: pass it with --${stdinFlag}`);
    return { value: "" };
  }
  if (canPrompt()) {
    if (secret.confirm) return { value: await askNewSecret(secret.label, secret.optional === true) };
    const [value] = await ask([{ text: `${secret.label}: `, hidden: true }]);
    return { value: value ?? "" };
  }
  if (!secret.optional) {
    throw new UsageError(`${label} needed: stdin is not a terminal, so pass it with --${stdinFlag}`);
  }
  return { value: "", note: `no ${label} given (stdin is not a terminal; --${stdinFlag} reads one)` };
}
