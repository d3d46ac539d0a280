import type { Config } from "../config/index.js";
import { type AdapterOptions, type HostAdapter, Sub2apiAdapter } from "../host/sub2api/index.js";
import type { Db } from "../store/db.js";
import type { Logger } from "../util/logger.js";
import { SecretBox } from "../util/secrets.js";

export type HostAdapterFactory = (options: AdapterOptions) => HostAdapter;

/** Everything a service verb needs; built once per process (or per test). */
export interface AppContext {
  db: Db;
  config: Config;
  secrets: SecretBox;
  logger: Logger;
  clock: () => Date;
  hostAdapter: HostAdapterFactory;
}

export interface ContextParts {
  db: Db;
  config: Config;
  logger: Logger;
  clock?: () => Date;
  hostAdapter?: HostAdapterFactory;
}

export function createContext(parts: ContextParts): AppContext {
  const timeoutMs = parts.config.hostTimeoutMs;
  return {
    db: parts.db,
    config: parts.config,
    logger: parts.logger,
    secrets: new SecretBox(parts.config.masterKey),
    clock: parts.clock ?? (() => new Date()),
    hostAdapter: parts.hostAdapter ?? ((options) => new Sub2apiAdapter({ timeoutMs, ...options })),
  };
}

export function nowIso(ctx: AppContext): string {
  return ctx.clock().toISOString();
}
