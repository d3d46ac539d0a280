import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { migrateStore } from "./migrate-store.js";
import { rotateMasterKey } from "./rotate-master-key.js";

export function configureMaintenanceCommand(program: Command): Command {
  const m = program.command("maintenance").description("operator maintenance tasks");
  addCommands(m, [migrateStore, rotateMasterKey]);
  return m;
}
