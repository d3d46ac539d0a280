import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Ajv, type ErrorObject } from "ajv";
import type { LogLevel } from "../util/logger.js";

export const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** What a refusal says after the variable's name; `got "…"` follows unless the value is a secret. */
const int = (minimum: number, maximum: number) =>
  Type.Optional(
    Type.Integer({ minimum, maximum, description: `must be an integer between ${minimum} and ${maximum}` }),
  );
const flag = () => Type.Optional(Type.Boolean({ description: "must be true or false" }));
const text = (description = "must not be empty") => Type.Optional(Type.String({ minLength: 1, description }));

/**
 * Every RELAY_* variable relay reads at start, in one schema: types, ranges and shapes here, checked
 * and coerced by ajv ("15000" → 15000, "yes" → true); what needs more than a schema (a cron
 * expression, a master key, a directory that must exist, drift rules) is checked by loadConfig
 * after it. `.env.example` documents the same set (a unit test keeps the two equal).
 */
export const RelayEnv = Type.Object({
  RELAY_DB_PATH: text(),
  RELAY_DATABASE_URL: text(),
  RELAY_LISTEN: Type.Optional(
    Type.String({
      pattern: "^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):(\\d{1,5})$",
      description: "expected HOST:PORT such as 127.0.0.1:8080",
    }),
  ),
  RELAY_API_TOKEN: text(),
  RELAY_MASTER_KEY: text(),
  RELAY_MASTER_KEY_FILE: text(),
  RELAY_RECONCILE_CRON: text(),
  RELAY_RECONCILE_JITTER_MS: int(0, 3_600_000),
  RELAY_DRIFT_IGNORE: text(),
  RELAY_DRIFT_IGNORE_FILE: text(),
  RELAY_ALLOW_INSECURE_HOSTS: flag(),
  RELAY_ALLOW_LOOPBACK_UPSTREAMS: flag(),
  RELAY_HOST_CALL_TRACE: text(),
  RELAY_ALLOW_LINK_LOCAL_HOSTS: flag(),
  RELAY_PACKS_DIR: text(),
  RELAY_LOG_LEVEL: Type.Optional(
    Type.Union(
      LOG_LEVELS.map((l) => Type.Literal(l)),
      { description: `must be one of ${LOG_LEVELS.join(", ")}` },
    ),
  ),
  RELAY_HOST_CONCURRENCY: int(1, 256),
  RELAY_HOST_TIMEOUT_MS: int(100, 600_000),
  RELAY_SHUTDOWN_GRACE_MS: int(0, 3_600_000),
  RELAY_LEASE_MS: int(1_000, 3_600_000),
  RELAY_PG_POOL_SIZE: int(1, 100),
  RELAY_PG_STATEMENT_TIMEOUT_MS: int(100, 3_600_000),
  // Alerts (config/alerts.ts parses the sink list and repeats these bounds).
  RELAY_ALERT_WEBHOOKS: text(),
  RELAY_ALERT_WEBHOOKS_FILE: text(),
  RELAY_ALERT_RETRIES: int(0, 10),
  RELAY_ALERT_BACKOFF_MS: int(1, 60_000),
  RELAY_ALERT_TIMEOUT_MS: int(100, 120_000),
});

export type RelayEnvValues = Static<typeof RelayEnv>;
export type RelayVariable = keyof RelayEnvValues;

/** Never repeated in a message. */
const SECRETS: readonly string[] = ["RELAY_API_TOKEN", "RELAY_MASTER_KEY", "RELAY_DATABASE_URL"];

const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: true });
const check = ajv.compile(RelayEnv);

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

export interface EnvProblem {
  variable: string;
  message: string;
}

/**
 * The RELAY_* variables of `env`, validated and typed. A blank value counts as unset; flags take
 * 1/0, true/false, yes/no, on/off. Every bad variable is named (the first one first), never with a
 * secret's value.
 */
export function parseEnv(env: NodeJS.ProcessEnv): { values: RelayEnvValues; problems: EnvProblem[] } {
  const raw: Record<string, string> = {};
  const input: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(RelayEnv.properties) as [string, TSchema][]) {
    const value = env[name]?.trim();
    if (value === undefined || value === "") continue;
    raw[name] = value;
    const word = value.toLowerCase();
    input[name] = schema.type === "boolean" && (TRUE.has(word) || FALSE.has(word)) ? TRUE.has(word) : value;
  }
  if (check(input)) return { values: input as RelayEnvValues, problems: [] };
  const seen = new Set<string>();
  const problems: EnvProblem[] = [];
  for (const e of check.errors ?? []) {
    const variable = variableOf(e);
    if (seen.has(variable)) continue;
    seen.add(variable);
    const schema = (RelayEnv.properties as Record<string, TSchema | undefined>)[variable];
    const said = schema?.description ?? e.message ?? "is invalid";
    problems.push({
      variable,
      message: SECRETS.includes(variable) ? said : `${said}, got "${raw[variable] ?? ""}"`,
    });
  }
  return { values: input as RelayEnvValues, problems };
}

const variableOf = (e: ErrorObject) => e.instancePath.split("/")[1] ?? "RELAY_ENV";
