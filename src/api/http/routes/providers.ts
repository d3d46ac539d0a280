import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { importKeys } from "../../../provision/import.js";
import { buildPlan } from "../../../provision/preview.js";
import { rollbackBatch } from "../../../provision/rollback.js";
import type { ImportRequest } from "../../../provision/types.js";
import { getBatch, listBatches } from "../../../store/batches.js";
import { findHost } from "../../../store/hosts.js";
import { ajv, jsonBody, userTargetsSchema } from "../validate.js";

export interface ImportBody {
  host_id: string;
  keys: string[];
  mode?: "strict" | "partial";
  access_mode?: "subscription" | "self-service";
  subscription_targets?: { user_id: number | string; duration_days?: number }[];
  with_plan?: boolean;
  expected_fingerprint?: string;
}

export const importBodySchema = {
  type: "object",
  additionalProperties: false,
  required: ["host_id", "keys"],
  properties: {
    host_id: { type: "string", minLength: 1, maxLength: 200 },
    keys: { type: "array", minItems: 1, maxItems: 10_000, items: { type: "string", maxLength: 512 } },
    mode: { enum: ["strict", "partial"] },
    access_mode: { enum: ["subscription", "self-service"] },
    subscription_targets: userTargetsSchema,
    with_plan: { type: "boolean" },
    expected_fingerprint: { type: "string", pattern: "^[0-9a-f]{64}$" },
  },
} as const;
const validateImport = ajv.compile<ImportBody>(importBodySchema);

export function toImportRequest(
  providerId: string,
  body: ImportBody,
  defaultMode: "strict" | "partial",
): ImportRequest {
  return {
    hostRef: body.host_id,
    providerId,
    keys: body.keys,
    mode: body.mode ?? defaultMode,
    ...(body.access_mode ? { accessMode: body.access_mode } : {}),
    subscribe: (body.subscription_targets ?? []).map((t) => ({
      userId: Number(t.user_id),
      ...(t.duration_days ? { days: t.duration_days } : {}),
    })),
    withPlan: body.with_plan === true,
  };
}

export function providerRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/:provider_id/preview-import", async (c) => {
    const body = await jsonBody(c, validateImport);
    const { plan } = await buildPlan(ctx, toImportRequest(c.req.param("provider_id"), body, "strict"));
    return c.json(plan);
  });
  app.post("/:provider_id/import", async (c) => {
    const body = await jsonBody(c, validateImport);
    const result = await importKeys(ctx, toImportRequest(c.req.param("provider_id"), body, "strict"), {
      ...(body.expected_fingerprint ? { expectedFingerprint: body.expected_fingerprint } : {}),
    });
    return c.json(result);
  });
  app.get("/:provider_id/import-batches", (c) => {
    const hostRef = c.req.query("host_id");
    const hostId = hostRef ? findHost(ctx, hostRef).id : undefined;
    return c.json({
      items: listBatches(ctx, { providerId: c.req.param("provider_id"), ...(hostId ? { hostId } : {}) }),
    });
  });
  return app;
}

export function batchRoutes(ctx: AppContext) {
  const app = new Hono();
  app.get("/:batch_id", (c) => c.json(getBatch(ctx, c.req.param("batch_id"))));
  app.post("/:batch_id/rollback", async (c) => c.json(await rollbackBatch(ctx, c.req.param("batch_id"))));
  return app;
}
