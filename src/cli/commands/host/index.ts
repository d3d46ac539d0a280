import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { hostAdd } from "./add.js";
import { hostList } from "./list.js";
import { hostProbe } from "./probe.js";
import { hostRemove } from "./remove.js";
import { hostRemoveProbeUser } from "./remove-probe-user.js";
import { hostShow } from "./show.js";

export function configureHostCommand(program: Command): Command {
  const host = program.command("host").description("register and inspect sub2api hosts");
  addCommands(host, [hostAdd, hostList, hostShow, hostRemove, hostRemoveProbeUser, hostProbe]);
  return host;
}
