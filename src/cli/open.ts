import { type AppContext, createContext } from "../app/context.js";
import { type Config, storeOptions, storeTarget } from "../config/index.js";
import { closeDb, openDb } from "../store/db.js";
import { createLogger } from "../util/logger.js";

/** The context of one CLI command: the database opened (and migrated), quieter logs than `serve`. */
export async function openContext(config: Config): Promise<AppContext> {
  const db = await openDb(storeTarget(config), storeOptions(config));
  return await createContext({
    db,
    config,
    logger: createLogger(config.logLevel === "info" ? "warn" : config.logLevel),
  });
}

export async function closeContext(ctx: AppContext): Promise<void> {
  await closeDb(ctx.db);
}
