import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { accessAssign } from "./assign.js";
import { accessPreview } from "./preview.js";
import { accessStatus } from "./status.js";

export function configureAccessCommand(program: Command): Command {
  const access = program
    .command("access")
    .description("subscriptions and the proof that users can call the provider");
  addCommands(access, [accessPreview, accessAssign, accessStatus]);
  return access;
}
