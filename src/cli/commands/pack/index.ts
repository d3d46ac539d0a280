import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { packInstall } from "./install.js";
import { packLint } from "./lint.js";
import { packList } from "./list.js";
import { packRemove } from "./remove.js";
import { packShow } from "./show.js";

export function configurePackCommand(program: Command): Command {
  const pack = program.command("pack").description("install and inspect model packs");
  addCommands(pack, [packInstall, packLint, packList, packRemove, packShow]);
  return pack;
}
