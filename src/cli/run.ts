import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { AppContext } from "../app/context.js";
import { type Config, ConfigError, type LoadOptions, loadConfig, storeLocation } from "../config/index.js";
import { AppError, ExitCode, exitCodeOf, isAppError } from "../domain/errors.js";
import { printable } from "../util/sanitize.js";

export interface GlobalOptions {
  db?: string;
  json?: boolean;
  debug?: boolean;
  concurrency?: string;
}

export interface CommandResult<T> {
  data: T;
  /** Human rendering; `--json` prints `data` instead. */
  human: (data: T) => string;
  exitCode?: number;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** The environment with the global flags applied: flags override their variables. */
function cliEnv(opts: GlobalOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // --db names a SQLite file: it also wins over a RELAY_DATABASE_URL in the environment.
    ...(opts.db ? { RELAY_DB_PATH: opts.db, RELAY_DATABASE_URL: "" } : {}),
    ...(opts.concurrency ? { RELAY_HOST_CONCURRENCY: opts.concurrency } : {}),
  };
}

export function loadCliConfig(opts: GlobalOptions, load: LoadOptions = {}): Config {
  return loadConfig(cliEnv(opts), load);
}

/**
 * What a command needs of relay's state: `create` it where there is none (host add, pack install,
 * the first import), an `existing` one (refused with NO_STATE where there is none, creating
 * nothing: no database, no directory, no master key), or `optional` (where there is none, the
 * command runs on a throwaway in-memory state: `relay pack lint`).
 */
export type StateNeed = "create" | "existing" | "optional";

function commandConfig(opts: GlobalOptions, state: StateNeed): Config {
  const env = cliEnv(opts);
  const where = storeLocation(env);
  if (where.databaseUrl || state === "create" || existsSync(where.dbPath)) return loadConfig(env);
  if (state === "optional")
    return loadConfig({
      ...env,
      RELAY_DB_PATH: ":memory:",
      RELAY_MASTER_KEY: randomBytes(32).toString("base64"),
      RELAY_MASTER_KEY_FILE: "",
    });
  throw new AppError("not_found", "NO_STATE", `no state at ${where.dbPath}`, {
    hint: "Run where relay's state is, or point RELAY_DB_PATH (or --db) at it; `relay host add` creates it.",
  });
}

/**
 * The one place CLI actions are run: build the context, call the service, print (`--json` or
 * human), and map errors to exit codes (design §8). Errors say what failed and what to do next.
 */
export async function runCommand<T>(
  cmd: Command,
  action: (ctx: AppContext) => Promise<CommandResult<T>> | CommandResult<T>,
  options: { state?: StateNeed } = {},
) {
  const opts = globalOptions(cmd);
  let ctx: AppContext | undefined;
  let close: ((ctx: AppContext) => void) | undefined;
  try {
    const config = commandConfig(opts, options.state ?? "create");
    // The store, the context and the logger load here, when a command runs, not at start-up.
    const opener = await import("./open.js");
    close = opener.closeContext;
    ctx = await opener.openContext(config);
    const result = await action(ctx);
    // JSON escapes control characters itself; human text from hosts and packs is made printable.
    const out = opts.json ? jsonText(result.data) : printable(result.human(result.data), { lines: true });
    process.stdout.write(`${out}\n`);
    process.exitCode = result.exitCode ?? ExitCode.ok;
  } catch (err) {
    reportError(err, opts.json === true, opts.debug === true || debugFromEnv(process.env));
  } finally {
    if (ctx) close?.(ctx);
  }
}

/** A command that only reads relay's state: refused (NO_STATE) where there is none, never creating it. */
export function runReadOnly<T>(
  cmd: Command,
  action: (ctx: AppContext) => Promise<CommandResult<T>> | CommandResult<T>,
) {
  return runCommand(cmd, action, { state: "existing" });
}

/**
 * `--json`: pretty on a terminal, one line otherwise, so `relay … --json >> runs.jsonl` appends one
 * JSON document per line.
 */
export function jsonText(data: unknown): string {
  return JSON.stringify(data, null, process.stdout.isTTY ? 2 : undefined);
}

/** RELAY_DEBUG=1 (true, yes, on): as `--debug`. */
export const debugFromEnv = (env: NodeJS.ProcessEnv): boolean =>
  /^(1|true|yes|on)$/i.test(env.RELAY_DEBUG?.trim() ?? "");

/** Short details inline; long ones (a whole plan, a list of keys) only under `--json`. */
export function detailsLine(details: unknown): string {
  const text = JSON.stringify(details);
  return text.length <= MAX_INLINE_DETAILS
    ? `details: ${printable(text)}`
    : "details: run the same command with --json to see them in full";
}

const MAX_INLINE_DETAILS = 200;

/**
 * The CLI's one error path: what failed and what to do, on stderr (and as JSON under `--json`).
 * An error relay did not expect is one line and a hint as well; its stack only with `debug`.
 */
export function reportError(err: unknown, json: boolean, debug = false) {
  if (isAppError(err)) {
    if (json) {
      const body = {
        error: {
          code: err.code,
          message: err.message,
          ...(err.details !== undefined ? { details: err.details } : {}),
          ...(err.hint ? { hint: err.hint } : {}),
        },
      };
      process.stdout.write(`${jsonText(body)}\n`);
    }
    process.stderr.write(
      `error: ${printable(err.message)}${err.hint ? `\nhint: ${printable(err.hint)}` : ""}\n`,
    );
    if (err.details !== undefined && !json) process.stderr.write(`${detailsLine(err.details)}\n`);
    process.exitCode = exitCodeOf(err.kind);
    return;
  }
  if (err instanceof ConfigError) {
    if (json)
      process.stdout.write(`${jsonText({ error: { code: "CONFIG_INVALID", message: err.message } })}\n`);
    process.stderr.write(`configuration error: ${printable(err.message)}\n`);
    process.exitCode = ExitCode.error;
    return;
  }
  const first = String(err instanceof Error ? err.message : err).split("\n")[0] ?? "";
  const message = printable(first, { max: 300 }) || "unexpected failure";
  if (json) process.stdout.write(`${jsonText({ error: { code: "INTERNAL", message } })}\n`);
  process.stderr.write(
    debug
      ? `error: ${message}\n${printable((err as Error)?.stack ?? String(err), { lines: true })}\n`
      : `error: ${message}\nhint: an internal error relay did not expect; run again with --debug (or RELAY_DEBUG=1) for the details, and report it if it persists\n`,
  );
  process.exitCode = ExitCode.error;
}
