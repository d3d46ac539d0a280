import { providerList } from "./list.js";
import { providerPolicy } from "./policy.js";
import { providerReconcile } from "./reconcile.js";
import { providerRelease } from "./release.js";
import { providerResources } from "./resources.js";
import { providerStatus } from "./status.js";

/** What relay knows of a provider on its hosts, in the order `relay provider --help` lists them. */
export const providerStateCommands = [providerReconcile, providerList, providerStatus, providerResources];

/** The health policy: show or set it, and hand control back. */
export const providerPolicyCommands = [providerPolicy, providerRelease];
