import type { Command } from "commander";
import { addCommands } from "../../define.js";
import { providerImport } from "./import.js";
import { providerList } from "./list.js";
import { providerMigrate } from "./migrate.js";
import { providerPolicy } from "./policy.js";
import { providerPreview } from "./preview.js";
import { providerReconcile } from "./reconcile.js";
import { providerRelease } from "./release.js";
import { providerResources } from "./resources.js";
import { providerRotate } from "./rotate.js";
import { providerStatus } from "./status.js";

/** `relay provider …`, its commands in the order `relay provider --help` lists them. */
export function configureProviderCommand(program: Command): Command {
  const provider = program.command("provider").description("preview and import provider keys");
  addCommands(provider, [
    // Import keys, and change what was imported.
    providerPreview,
    providerImport,
    providerMigrate,
    // What relay knows of a provider on its hosts.
    providerReconcile,
    providerList,
    providerStatus,
    providerResources,
    // The health policy: show or set it, and hand control back.
    providerPolicy,
    providerRelease,
    providerRotate,
  ]);
  return provider;
}
