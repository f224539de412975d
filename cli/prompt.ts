import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { CliError, exitCodes } from "./errors.js";

/** Whether the CLI can ask: stdin is a terminal (and not piped data). */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

/** One question of a prompt; `hidden` answers are not echoed. */
export interface Question {
  text: string;
  hidden?: boolean;
}

/**
 * Ask on the terminal, one question after the other through one readline
 * interface (so that answers typed ahead are not lost between questions).
 * Questions go to stderr so that stdout stays data. A hidden answer is not
 * echoed: readline still edits the line (backspace, Ctrl-U) but what it
 * writes is dropped.
 */
export async function ask(questions: readonly Question[]): Promise<string[]> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  // readline takes Ctrl-C from the terminal; end the process as the shell would.
  rl.on("SIGINT", () => {
    process.stderr.write("\n");
    process.exit(130);
  });
  const answers: string[] = [];
  try {
    for (const question of questions) {
      const answer = rl.question(question.text);
      muted = question.hidden === true;
      answers.push(await answer);
      muted = false;
      if (question.hidden) process.stderr.write("\n");
    }
    return answers;
  } finally {
    rl.close();
  }
}

/** A new secret, typed twice without echo; empty for none when `optional`. */
export async function askNewSecret(label: string, optional: boolean): Promise<string> {
  const [first, second] = await ask([
    { text: `${label}${optional ? " (empty for none)" : ""}: `, hidden: true },
    { text: `Confirm ${label.toLowerCase()}: `, hidden: true },
  ]);
  if (first === "" && second === "") {
    if (optional) return "";
    throw new CliError(`no ${label.toLowerCase()} given`, exitCodes.usage);
  }
  if (first !== second) throw new CliError(`the ${label.toLowerCase()}s do not match`, exitCodes.usage);
  return first as string;
}

export async function confirm(question: string): Promise<boolean> {
  const [answer] = await ask([{ text: `${question} [y/N] ` }]);
  return /^y(es)?$/i.test((answer ?? "").trim());
}

/** All of stdin, minus one trailing newline (as `echo secret |` adds one). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}
