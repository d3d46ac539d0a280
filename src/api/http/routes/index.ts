import type { Route } from "../route.js";
import { accessRoutes } from "./access.js";
import { hostRoutes } from "./hosts.js";
import { importRoutes } from "./imports.js";
import { migrateRoutes } from "./migrate.js";
import { packRoutes } from "./packs.js";
import { policyRoutes } from "./policy.js";
import { providerRoutes } from "./providers.js";
import { rotateRoutes } from "./rotate.js";

/** Every /api route, in the order the OpenAPI document lists them. */
export const apiRoutes: readonly Route[] = [
  ...hostRoutes,
  ...packRoutes,
  ...importRoutes,
  ...accessRoutes,
  ...providerRoutes,
  ...migrateRoutes,
  ...policyRoutes,
  ...rotateRoutes,
];
