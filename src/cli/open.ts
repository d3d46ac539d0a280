import { type AppContext, createContext } from "../app/context.js";
import { type Config, storeTarget } from "../config/index.js";
import { closeDb, openDb } from "../store/db.js";
import { createLogger } from "../util/logger.js";

/** The context of one CLI command: the database opened (and migrated), quieter logs than `serve`. */
export function openContext(config: Config): AppContext {
  const db = openDb(storeTarget(config));
  return createContext({
    db,
    config,
    logger: createLogger(config.logLevel === "info" ? "warn" : config.logLevel),
  });
}

export function closeContext(ctx: AppContext): void {
  closeDb(ctx.db);
}
