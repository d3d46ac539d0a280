import type { AppContext } from "../app/context.js";
import { describeStore, storeOptions } from "../config/index.js";
import { invalidInput } from "../domain/errors.js";
import { copyStore, type StoreCopy } from "../store/copy.js";
import { closeDb, isPostgresUrl, openDb, storeKind } from "../store/db.js";
import type { CommandResult } from "./run.js";

/**
 * `relay maintenance migrate-store`: the SQLite state copied into an empty PostgreSQL database.
 * The URL's password never travels in argv (main.ts refuses one there, in the user part or the
 * query): PGPASSWORD, or the whole URL in a named variable.
 */
export async function migrateStore(
  ctx: AppContext,
  opts: { to?: string; toEnv?: string },
  env: NodeJS.ProcessEnv,
): Promise<CommandResult<StoreCopy & { from: string; to: string; next: string }>> {
  if (storeKind(ctx.db) !== "sqlite")
    throw invalidInput("SOURCE_NOT_SQLITE", "the state to copy is read from the SQLite file", {
      hint: "Run without RELAY_DATABASE_URL (or with --db FILE) so that relay opens the SQLite state.",
    });
  if (!opts.to === !opts.toEnv)
    throw invalidInput("TARGET_REQUIRED", "give exactly one of --to and --to-env");
  const url = opts.to ?? env[opts.toEnv as string] ?? "";
  if (!isPostgresUrl(url))
    throw invalidInput("INVALID_TARGET", `${opts.to ? "--to" : opts.toEnv} must be a postgres:// URL`);
  const target = await openDb(url, storeOptions(ctx.config));
  try {
    const copy = await copyStore(ctx.db, target, ctx.clock());
    const to = describeStore({ databaseUrl: url, dbPath: "" });
    const next = `Start every replica with RELAY_DATABASE_URL=${to} (password included) and the master key this state was opened with (${ctx.config.masterKeySource === "env" ? "RELAY_MASTER_KEY" : "the key file's content, as RELAY_MASTER_KEY"}).`;
    return {
      data: { ...copy, from: ctx.config.dbPath, to, next },
      human: (d) =>
        [
          `copied ${d.from} → ${d.to}`,
          ...d.tables.map((t) => `  ${t.table.padEnd(24)} ${t.rows}`),
          d.next,
        ].join("\n"),
    };
  } finally {
    await closeDb(target);
  }
}
