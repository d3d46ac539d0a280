import { Type } from "@sinclair/typebox";
import { defineCommand, option } from "../../define.js";
import { runCommand } from "../../run.js";

// Verbs are loaded when a command runs, not when the CLI starts (`relay --help` loads none).
const loadCopy = () => import("../../migrate-store.js");

export const migrateStore = defineCommand({
  name: "migrate-store",
  description: "copy relay's whole state from the SQLite file into an empty PostgreSQL database",
  options: [
    option("--to <url>", "the PostgreSQL database, postgres://USER@HOST:5432/DB (password in PGPASSWORD)"),
    option("--to-env <var>", "environment variable holding the whole URL, password included"),
  ],
  schema: Type.Object(
    { to: Type.Optional(Type.String()), toEnv: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
  help: "\nStop `relay serve` first. The SQLite file is only read: keep it as the backup until the replicas run.\nEvery replica then needs RELAY_DATABASE_URL and the same master key as this state.\n\nExample:\n  PGPASSWORD=… relay maintenance migrate-store --to postgres://relay@db:5432/relay",
  action: async (_args, opts, cmd) => {
    await runCommand(cmd, async (ctx) => await (await loadCopy()).migrateStore(ctx, opts, process.env), {
      state: "existing",
    });
  },
});
