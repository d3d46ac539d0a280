import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { Cron } from "croner";
import { decodeMasterKey } from "../util/secrets.js";

import { type AlertConfig, parseAlertConfig } from "./alerts.js";
import { ConfigError } from "./errors.js";

export { ConfigError };

import type { LogLevel } from "../util/logger.js";
import { parseEnv } from "./env-schema.js";

export type { LogLevel };

export interface Config {
  dbPath: string;
  /** RELAY_DATABASE_URL: PostgreSQL shared by replicas; unset, the SQLite file `dbPath` is the store. */
  databaseUrl: string | undefined;
  listen: { host: string; port: number };
  apiToken: string | undefined;
  masterKey: Buffer;
  /** Where the master key came from, for `relay doctor`-style messages; never the key itself. */
  masterKeySource: "env" | "file";
  reconcileCron: string;
  /** Random delay before each scheduled reconcile, so many instances do not hit hosts at once. */
  reconcileJitterMs: number;
  allowInsecureHosts: boolean;
  /** Packs may point a provider at plain http on loopback (a test stand's fake upstream); off by default. */
  allowLoopbackUpstreams: boolean;
  /** A file each host call's operation, outcome and status is appended to (test stands; no payloads). */
  hostCallTrace: string | undefined;
  /** Hosts on link-local or cloud-metadata addresses (169.254.0.0/16, fe80::/10, …) are refused unless set. */
  allowLinkLocalHosts: boolean;
  /** The only directory the HTTP API installs packs from by path; unset, the API takes uploads only. */
  packsDir: string | undefined;
  logLevel: LogLevel;
  hostTimeoutMs: number;
  /** Calls in flight to one host at most (its adaptive limit starts and tops out here). */
  hostConcurrency: number;
  /** RELAY_DRIFT_IGNORE and RELAY_DRIFT_IGNORE_FILE: differences reconcile reports as ignored. */
  driftIgnore: IgnoreRule[];
  /** RELAY_LEASE_MS: a provider lease's TTL; a holder silent this long (stalled, stopped) loses it. */
  leaseMs: number;
  /** `relay serve` on SIGTERM/SIGINT: how long accepted work may go on before it is left to recovery. */
  shutdownGraceMs: number;
  /** RELAY_ALERT_WEBHOOKS(_FILE), RELAY_ALERT_RETRIES, …: where health and sync transitions are sent. */
  alerts: AlertConfig;
  /** PostgreSQL: RELAY_PG_POOL_SIZE connections per process, RELAY_PG_STATEMENT_TIMEOUT_MS per statement. */
  pgPoolSize: number;
  pgStatementTimeoutMs: number;
}

export interface LoadOptions {
  /** `relay serve` needs the API token; the other commands do not. */
  requireApiToken?: boolean;
}

export const DEFAULTS = {
  dbPath: "./data/relay.db",
  listen: "127.0.0.1:8080",
  reconcileCron: "*/15 * * * *",
  logLevel: "info" as LogLevel,
  hostTimeoutMs: 15_000,
  hostConcurrency: 16,
  reconcileJitterMs: 30_000,
  shutdownGraceMs: 30_000,
  leaseMs: 60_000,
  pgPoolSize: 10,
  pgStatementTimeoutMs: 30_000,
};

const MIN_API_TOKEN_LENGTH = 16;
const MIN_API_TOKEN_DISTINCT = 8;

/**
 * Where the state is, from RELAY_DB_PATH and RELAY_DATABASE_URL alone: what a command that only
 * reads checks before anything else (loading the rest may create the master key file).
 */
export function storeLocation(env: NodeJS.ProcessEnv): Pick<Config, "dbPath" | "databaseUrl"> {
  return {
    dbPath: nonEmpty(env, "RELAY_DB_PATH") ?? DEFAULTS.dbPath,
    databaseUrl: parseDatabaseUrl(nonEmpty(env, "RELAY_DATABASE_URL")),
  };
}

/**
 * Parse and validate the environment once (the schema in env-schema.ts, then what a schema cannot
 * say). Nothing else reads process.env.
 */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadOptions = {}): Config {
  const { values: v, problems } = parseEnv(env);
  const first = problems[0];
  if (first)
    throw new ConfigError(
      first.variable,
      [first.message, ...problems.slice(1).map((p) => `${p.variable}: ${p.message}`)].join("; "),
    );
  const { dbPath, databaseUrl } = storeLocation(env);
  const listen = parseListen(v.RELAY_LISTEN ?? DEFAULTS.listen);
  const apiToken = checkApiToken(v.RELAY_API_TOKEN, options);
  const reconcileCron = v.RELAY_RECONCILE_CRON ?? DEFAULTS.reconcileCron;
  try {
    new Cron(reconcileCron, { paused: true }).stop();
  } catch (err) {
    throw new ConfigError(
      "RELAY_RECONCILE_CRON",
      `is not a valid cron expression (${(err as Error).message})`,
    );
  }
  const { key: masterKey, source: masterKeySource } = databaseUrl
    ? sharedMasterKey(env)
    : resolveMasterKey(env, dbPath);

  return {
    dbPath,
    databaseUrl,
    listen,
    apiToken,
    masterKey,
    masterKeySource,
    reconcileCron,
    reconcileJitterMs: v.RELAY_RECONCILE_JITTER_MS ?? DEFAULTS.reconcileJitterMs,
    allowInsecureHosts: v.RELAY_ALLOW_INSECURE_HOSTS ?? false,
    allowLoopbackUpstreams: v.RELAY_ALLOW_LOOPBACK_UPSTREAMS ?? false,
    hostCallTrace: v.RELAY_HOST_CALL_TRACE,
    allowLinkLocalHosts: v.RELAY_ALLOW_LINK_LOCAL_HOSTS ?? false,
    packsDir: parsePacksDir(v.RELAY_PACKS_DIR),
    logLevel: v.RELAY_LOG_LEVEL ?? DEFAULTS.logLevel,
    hostTimeoutMs: v.RELAY_HOST_TIMEOUT_MS ?? DEFAULTS.hostTimeoutMs,
    hostConcurrency: v.RELAY_HOST_CONCURRENCY ?? DEFAULTS.hostConcurrency,
    driftIgnore: parseDriftIgnore(v.RELAY_DRIFT_IGNORE, v.RELAY_DRIFT_IGNORE_FILE),
    shutdownGraceMs: v.RELAY_SHUTDOWN_GRACE_MS ?? DEFAULTS.shutdownGraceMs,
    leaseMs: v.RELAY_LEASE_MS ?? DEFAULTS.leaseMs,
    pgPoolSize: v.RELAY_PG_POOL_SIZE ?? DEFAULTS.pgPoolSize,
    pgStatementTimeoutMs: v.RELAY_PG_STATEMENT_TIMEOUT_MS ?? DEFAULTS.pgStatementTimeoutMs,
    alerts: parseAlertConfig(env),
  };
}

function checkApiToken(apiToken: string | undefined, options: LoadOptions): string | undefined {
  if (options.requireApiToken && apiToken === undefined) {
    throw new ConfigError(
      "RELAY_API_TOKEN",
      "is required by `relay serve`; set it to a long random string (e.g. `openssl rand -hex 32`)",
    );
  }
  if (apiToken !== undefined && apiToken.length < MIN_API_TOKEN_LENGTH) {
    throw new ConfigError("RELAY_API_TOKEN", `must be at least ${MIN_API_TOKEN_LENGTH} characters`);
  }
  if (apiToken !== undefined && new Set(apiToken).size < MIN_API_TOKEN_DISTINCT) {
    throw new ConfigError(
      "RELAY_API_TOKEN",
      `is too predictable (fewer than ${MIN_API_TOKEN_DISTINCT} different characters); use a random value such as \`openssl rand -hex 32\``,
    );
  }
  return apiToken;
}

/**
 * A difference the operator accepts (Argo CD's ignoreDifferences): `PROVIDER:TYPE.FIELD`, where
 * PROVIDER is a provider id or `*`, TYPE a resource type and FIELD one of its watched fields or
 * `*`; e.g. `deepseek:account.schedulable,*:group.description`. Only `changed` findings are
 * ignored (domain/drift-ignore.ts, which also refuses unknown types and fields at start).
 */
export interface IgnoreRule {
  provider: string;
  resource: string;
  field: string;
  /** As written, for the output. */
  text: string;
  /** The variable it came from, for the message that refuses it. */
  variable: string;
}

const IGNORE_RULE = /^([a-z0-9][a-z0-9-]*|\*):([a-z_]+)\.([a-z_]+|\*)$/;

/** Rules separated by commas, blanks or new lines; `#` starts a comment. Every bad rule is named. */
export function parseIgnoreRules(variable: string, text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  const problems: string[] = [];
  const words = text
    .split("\n")
    .map((line) => line.replace(/#.*$/, ""))
    .join(",")
    .split(/[,\s]+/)
    .filter((w) => w !== "");
  for (const w of words) {
    const m = IGNORE_RULE.exec(w);
    if (m) rules.push({ provider: m[1] ?? "", resource: m[2] ?? "", field: m[3] ?? "", text: w, variable });
    else problems.push(`"${w}" is not PROVIDER:TYPE.FIELD (e.g. deepseek:account.schedulable)`);
  }
  if (problems.length > 0) throw new ConfigError(variable, problems.join("; "));
  return rules;
}

/** Rules from the variable, then from the file (one or more a line); any bad rule stops the start. */
function parseDriftIgnore(inline: string | undefined, file: string | undefined): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  const take = (variable: string, text: string) => rules.push(...parseIgnoreRules(variable, text));
  if (inline) take("RELAY_DRIFT_IGNORE", inline);
  if (file) {
    let text: string;
    try {
      text = readFileSync(resolve(file), "utf8");
    } catch (err) {
      throw new ConfigError("RELAY_DRIFT_IGNORE_FILE", `cannot read ${file}: ${(err as Error).message}`);
    }
    take("RELAY_DRIFT_IGNORE_FILE", text);
  }
  return rules;
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match?.[1] || port > 65535) {
    throw new ConfigError("RELAY_LISTEN", `expected HOST:PORT such as 127.0.0.1:8080, got "${value}"`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

/**
 * The master key encrypts host admin tokens and probe passwords at rest and keys the HMAC of
 * provider keys. It never lives in the database: it comes from RELAY_MASTER_KEY or from a key file
 * (RELAY_MASTER_KEY_FILE, default next to the database) created with mode 0600 on first start.
 */
function resolveMasterKey(env: NodeJS.ProcessEnv, dbPath: string): { key: Buffer; source: "env" | "file" } {
  const fromEnv = nonEmpty(env, "RELAY_MASTER_KEY");
  if (fromEnv !== undefined) {
    return { key: decodeKey("RELAY_MASTER_KEY", fromEnv), source: "env" };
  }
  const defaultDir = dbPath === ":memory:" ? "./data" : dirname(dbPath);
  const file = resolve(nonEmpty(env, "RELAY_MASTER_KEY_FILE") ?? `${defaultDir}/master.key`);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        "RELAY_MASTER_KEY_FILE",
        `${file} is readable by group or others (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``,
      );
    }
    return { key: decodeKey("RELAY_MASTER_KEY_FILE", readFileSync(file, "utf8").trim()), source: "file" };
  }
  if (dbPath !== ":memory:" && existsSync(dbPath)) {
    // A new key cannot open an existing database: refuse, and leave no stray key file behind.
    throw new ConfigError(
      "RELAY_MASTER_KEY_FILE",
      "there is no master key for the existing database; restore the key file it was created with, or set RELAY_MASTER_KEY",
    );
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { key, source: "file" };
}

/** What `openDb` opens: the PostgreSQL URL when one is set, else the SQLite file. */
export const storeTarget = (c: Pick<Config, "databaseUrl" | "dbPath">): string => c.databaseUrl ?? c.dbPath;

/** How `openDb` opens PostgreSQL (ignored for SQLite). */
export const storeOptions = (c: Pick<Config, "pgPoolSize" | "pgStatementTimeoutMs">) => ({
  poolSize: c.pgPoolSize,
  statementTimeoutMs: c.pgStatementTimeoutMs,
});

/** The store for logs and messages: the file, or the URL without its password. */
export function describeStore(c: Pick<Config, "databaseUrl" | "dbPath">): string {
  if (!c.databaseUrl) return c.dbPath;
  const url = new URL(c.databaseUrl);
  url.password = "";
  url.search = "";
  return url.toString();
}

function parseDatabaseUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      "RELAY_DATABASE_URL",
      "must be a URL such as postgres://relay:PASSWORD@db:5432/relay",
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
    throw new ConfigError(
      "RELAY_DATABASE_URL",
      "must start with postgres:// (unset it to use the SQLite file)",
    );
  if (url.pathname.length < 2) throw new ConfigError("RELAY_DATABASE_URL", "must name a database (…/relay)");
  return value;
}

/**
 * On PostgreSQL every replica must seal and open secrets with the same key, so it is given, never
 * generated: a key file made here would be this machine's alone.
 */
function sharedMasterKey(env: NodeJS.ProcessEnv): { key: Buffer; source: "env" | "file" } {
  const file = nonEmpty(env, "RELAY_MASTER_KEY_FILE");
  if (nonEmpty(env, "RELAY_MASTER_KEY") === undefined && (file === undefined || !existsSync(file)))
    throw new ConfigError(
      "RELAY_MASTER_KEY",
      "is required with RELAY_DATABASE_URL (or RELAY_MASTER_KEY_FILE naming an existing file): every replica needs the same key, so relay does not generate one",
    );
  // Given either way, so the file-creating branch of resolveMasterKey is never reached.
  return resolveMasterKey(env, ":memory:");
}

function parsePacksDir(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const dir = resolve(value);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ConfigError("RELAY_PACKS_DIR", "must name an existing directory");
  return realpathSync(dir);
}

function decodeKey(variable: string, text: string): Buffer {
  const key = decodeMasterKey(text);
  if (!key)
    throw new ConfigError(
      variable,
      "must be 32 bytes, as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)",
    );
  return key;
}
