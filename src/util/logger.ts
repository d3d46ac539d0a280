import { type Logger, pino } from "pino";

export type { Logger };

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/**
 * Structured logs on stderr (stdout stays clean for `--json`). Known secret-bearing fields are
 * redacted as a second line of defence; the first is that secrets are never passed to the logger.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { app: "relay" },
      redact: {
        paths: [
          "token",
          "*.token",
          "adminKey",
          "*.adminKey",
          "apiKey",
          "*.apiKey",
          "password",
          "*.password",
          "keys",
          "*.keys",
          "headers.authorization",
          'headers["x-api-key"]',
        ],
        censor: "[redacted]",
      },
    },
    destination as pino.DestinationStream,
  );
}
