import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { reconcileRun } from "./run.js";

export { exitForReconcile, renderReconcile } from "./render.js";

export function configureReconcileCommand(program: Command): Command {
  const reconcile = program
    .command("reconcile")
    .description("compare hosts with the records, re-test, re-prove access");
  addCommands(reconcile, [reconcileRun]);
  return reconcile;
}
