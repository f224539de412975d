import type { SingleBar } from "cli-progress";

/** A progress bar on stderr, or nothing where one would not be seen or would garble output. */
export interface Progress {
  update(value: number): void;
  stop(): void;
}

const none: Progress = { update() {}, stop() {} };

/**
 * Whether a bar can be drawn: stderr is a terminal, and what the command
 * writes goes elsewhere (a file, or a redirected stdout); a bar redrawn
 * between lines of output on the same terminal would garble both.
 */
export function canShowProgress(writesToStdout: boolean): boolean {
  return process.stderr.isTTY === true && (!writesToStdout || !process.stdout.isTTY);
}

/**
 * A bar of `total` steps named `noun`; with `rate`, also the steps per
 * second and the time left. cli-progress is loaded only when one is drawn.
 */
export async function startProgress(options: {
  total: number;
  noun: string;
  rate?: boolean;
  visible: boolean;
}): Promise<Progress> {
  if (!options.visible) return none;
  const { default: cliProgress } = await import("cli-progress");
  const format = options.rate
    ? `{bar} {value}/{total} ${options.noun} | {rate}/s | ETA {eta_formatted}`
    : `{bar} {value}/{total} ${options.noun}`;
  const bar: SingleBar = new cliProgress.SingleBar(
    { stream: process.stderr, format, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(options.total, 0, { rate: "0" });
  return {
    update(value) {
      const seconds = (Date.now() - started) / 1000;
      bar.update(value, { rate: seconds > 0 ? Math.round(value / seconds).toString() : "0" });
    },
    stop: () => bar.stop(),
  };
}
