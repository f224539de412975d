import { type Logger, pino } from "pino";

export type { Logger };

/**
 * The server's structured logger. Secrets never reach it: request headers
 * and bodies are not logged, and these paths are censored as a second line
 * of defence.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "roster" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["authorization", "password", "api_key", "token", "secret", "*.authorization", "*.password", "*.token"],
      censor: "[redacted]",
    },
  });
}
