import { Type } from "@sinclair/typebox";
import type { Command } from "commander";
import { addCommands, defineCommand } from "../../define.js";

export const serve = defineCommand({
  name: "serve",
  description: "run the HTTP API (requires RELAY_API_TOKEN)",
  schema: Type.Object({}, { additionalProperties: false }),
  help: "\nSIGTERM or SIGINT drains: readyz and new /api writes answer 503, accepted imports finish within\nRELAY_SHUTDOWN_GRACE_MS (default 30000), then exit 0; what is left goes to recovery. A second signal exits at once.\n\nExample:\n  RELAY_API_TOKEN=$(openssl rand -hex 32) relay serve",
  action: async (_args, _opts, cmd) => {
    // Everything serve needs loads here: the other commands never load the HTTP stack.
    const { runServe } = await import("../../serve-run.js");
    await runServe(cmd);
  },
});

export function configureServeCommand(program: Command): void {
  addCommands(program, [serve]);
}
