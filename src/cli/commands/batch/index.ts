import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { batchList } from "./list.js";
import { batchRecover } from "./recover.js";
import { batchRollback } from "./rollback.js";
import { batchShow } from "./show.js";

export function configureBatchCommand(program: Command): Command {
  const batch = program.command("batch").description("inspect, roll back and recover import batches");
  addCommands(batch, [batchList, batchShow, batchRollback, batchRecover]);
  return batch;
}
