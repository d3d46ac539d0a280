import type { Command } from "commander";

export function configureServeCommand(program: Command) {
  program
    .command("serve")
    .description("run the HTTP API (requires RELAY_API_TOKEN)")
    .addHelpText("after", "\nExample:\n  RELAY_API_TOKEN=$(openssl rand -hex 32) relay serve")
    .action(async (_opts, cmd: Command) => {
      // Everything serve needs loads here: the other commands never load the HTTP stack.
      const { runServe } = await import("../serve-run.js");
      await runServe(cmd);
    });
}
