import { PackManifestSchema, ProviderDefinitionSchema } from "../../domain/pack/schema.js";
import { accessBodySchema } from "./routes/access.js";
import { addHostSchema } from "./routes/hosts.js";
import { installPathSchema } from "./routes/packs.js";
import { importBodySchema } from "./routes/providers.js";
import { reconcileBodySchema } from "./routes/reconcile.js";

/**
 * The OpenAPI 3.1 document, built from the same schemas the handlers validate with.
 * `npm run openapi` writes it to docs/api/openapi.yaml; a test fails when the file, the routes or
 * the real responses disagree with it.
 */
type Schema = Record<string, unknown>;
const str = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
const int = (extra: Schema = {}): Schema => ({ type: "integer", ...extra });
const num: Schema = { type: "number" };
const bool: Schema = { type: "boolean" };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: "null" }] });
const arr = (items: Schema): Schema => ({ type: "array", items });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema => ({
  type: "object",
  properties,
  required,
});
const anyObject: Schema = { type: "object" };
const strip = (s: unknown): Schema => JSON.parse(JSON.stringify(s, (k, v) => (k === "$id" ? undefined : v)));

const reason = obj({ code: str(), message: str(), hint: str() }, ["code", "message"]);
const finding = obj(
  {
    kind: { enum: ["missing", "changed", "unexpected", "account_failing", "access_broken", "incompatible"] },
    resource_type: str(),
    name: str(),
    host_resource_id: nullable(int()),
    field: str(),
    expected: {},
    actual: {},
    message: str(),
    healed: bool,
  },
  ["kind", "resource_type", "name", "host_resource_id", "message"],
);
const batchStatus = {
  enum: [
    "pending",
    "previewed",
    "running",
    "succeeded",
    "partially_succeeded",
    "failed",
    "rollback_running",
    "rolled_back",
  ],
};
const accessState = {
  enum: ["not_configured", "subscription_ready", "self_service_ready", "fully_ready", "broken"],
};

export const schemas: Record<string, Schema> = {
  Error: obj({
    error: obj({ code: str(), message: str(), details: {}, hint: str(), request_id: str() }, [
      "code",
      "message",
      "request_id",
    ]),
  }),
  AddHostRequest: strip(addHostSchema),
  Host: obj({
    host_id: str(),
    name: str(),
    base_url: str(),
    version: nullable(str()),
    status: { enum: ["supported", "unsupported"] },
    profile: nullable(str()),
    status_reasons: arr(reason),
    warnings: arr(reason),
    capabilities: anyObject,
    blockers: arr(str()),
    probe_identity: { enum: ["auto", "user", "none"] },
    admin_key_hint: str({ maxLength: 16 }),
    created_at: str(),
    updated_at: str(),
    last_probed_at: nullable(str()),
  }),
  HostList: obj({ items: arr(ref("Host")) }),
  PackManifest: strip(PackManifestSchema),
  ProviderDefinition: strip(ProviderDefinitionSchema),
  InstallPackPath: strip(installPathSchema),
  Pack: obj({
    pack_id: str(),
    name: str(),
    version: str(),
    description: str(),
    host: obj({ app: str(), version_range: str() }),
    providers: arr(str()),
    content_hash: str(),
    source: str(),
    installed_at: str(),
    history: arr(obj({ version: str(), installed_at: str(), current: bool })),
  }),
  PackList: obj({ items: arr(ref("Pack")) }),
  PackInstallResult: obj({
    outcome: { enum: ["installed", "upgraded", "unchanged", "downgraded"] },
    previous_version: nullable(str()),
    pack: ref("Pack"),
    warnings: arr(ref("PackIssue")),
  }),
  PackIssue: obj({
    severity: { enum: ["error", "warning"] },
    code: str(),
    file: nullable(str()),
    pointer: nullable(str()),
    message: str(),
  }),
  ProviderDefinitionList: obj({ items: arr(ref("ProviderDefinition")) }),
  ImportRequest: strip(importBodySchema),
  ImportPlan: obj({
    host_id: str(),
    host_name: str(),
    host_version: nullable(str()),
    provider_id: str(),
    pack_version: str(),
    mode: { enum: ["strict", "partial"] },
    access_mode: nullable({ enum: ["subscription", "self-service"] }),
    generation: int(),
    mapping: obj({
      platform: str(),
      via_fallback: bool,
      base_url: str(),
      model_mapping: anyObject,
      extra: anyObject,
    }),
    resources: arr(
      obj({
        type: str(),
        name: str(),
        action: { enum: ["create", "reuse", "conflict", "skip"] },
        reason: str(),
        host_resource_id: nullable(int()),
      }),
    ),
    keys: arr(
      obj({
        position: int(),
        line: int(),
        key: str({ maxLength: 16 }),
        action: { enum: ["create", "reuse", "conflict", "skip"] },
        reason: str(),
        account_name: str(),
        host_resource_id: nullable(int()),
      }),
    ),
    subscriptions: arr(obj({ user_id: int(), validity_days: int(), action: str(), reason: str() })),
    summary: anyObject,
    blocked: bool,
    blocked_reasons: arr(str()),
    warnings: arr(str()),
    fingerprint: str({ pattern: "^[0-9a-f]{64}$" }),
  }),
  ImportResult: obj({
    batch_id: str(),
    status: batchStatus,
    status_reason: str(),
    provider_status: str(),
    access_closure_status: { anyOf: [accessState, { const: "not_verified" }] },
    created: obj({
      group_id: nullable(int()),
      channel_id: nullable(int()),
      plan_id: nullable(int()),
      account_ids: arr(int()),
    }),
    keys: arr(
      obj({
        key: str({ maxLength: 16 }),
        status: str(),
        account_id: nullable(int()),
        error_code: nullable(str()),
        error: nullable(str()),
      }),
    ),
    summary: obj({ working: int(), failed: int(), reused: int(), skipped: int() }),
    warnings: arr(str()),
  }),
  BatchSummaryList: obj({
    items: arr(
      obj({
        batch_id: str(),
        host_id: str(),
        provider_id: str(),
        mode: str(),
        status: batchStatus,
        status_reason: str(),
        keys: int(),
        created_at: str(),
        finished_at: nullable(str()),
      }),
    ),
  }),
  Batch: obj({
    batch_id: str(),
    host_id: str(),
    provider_id: str(),
    pack_version: str(),
    mode: str(),
    access_mode: nullable(str()),
    status: batchStatus,
    status_reason: str(),
    created_at: str(),
    started_at: nullable(str()),
    finished_at: nullable(str()),
    duration_ms: nullable(int()),
    summary: anyObject,
    keys: arr(
      obj({
        position: int(),
        key: str({ maxLength: 16 }),
        status: str(),
        error_code: nullable(str()),
        error: nullable(str()),
        result: anyObject,
      }),
    ),
    resources: arr(
      obj({ type: str(), name: str(), host_resource_id: nullable(int()), state: str(), origin: str() }),
    ),
    probes: arr(
      obj({
        kind: str(),
        success: bool,
        model: nullable(str()),
        error_code: nullable(str()),
        message: nullable(str()),
        latency_ms: nullable(int()),
        at: str(),
      }),
    ),
    events: arr(obj({ at: str(), kind: str(), message: str() })),
  }),
  AccessRequest: strip(accessBodySchema),
  AccessPreview: obj({
    host_id: str(),
    provider_id: str(),
    group: nullable(obj({ id: int(), name: str(), subscription_type: str() })),
    assign: arr(
      obj({ user_id: int(), validity_days: int(), action: { enum: ["create", "reuse"] }, reason: str() }),
    ),
    already_subscribed: arr(int()),
    probe: obj({ identity: str(), chat_completions: bool, steps: arr(str()) }),
  }),
  AssignmentList: obj({
    items: arr(
      obj({
        user_id: int(),
        validity_days: int(),
        action: { enum: ["created", "reused", "conflict", "failed"] },
        reason: str(),
        subscription_id: nullable(int()),
      }),
    ),
  }),
  AccessStatus: obj({
    host_id: str(),
    provider_id: str(),
    access_state: accessState,
    reason: str(),
    evidence: anyObject,
    gateway: nullable(
      obj({
        status: int(),
        error_code: nullable(str()),
        model: nullable(str()),
        latency_ms: num,
        completion: nullable(str()),
      }),
    ),
    provider_status: str(),
    checked_at: str(),
  }),
  ReconcileRequest: strip(reconcileBodySchema),
  ReconcileResult: obj({
    run_id: int(),
    host_id: str(),
    provider_id: str(),
    outcome: { enum: ["ok", "drift", "degraded", "error", "skipped"] },
    previous_status: nullable(str()),
    new_status: nullable(str()),
    reason: str(),
    access_state: nullable(str()),
    findings: arr(finding),
    healed: arr(str()),
    host_calls: int(),
    duration_ms: num,
  }),
  ProviderStatus: obj({
    provider_id: str(),
    hosts: arr(
      obj({
        host_id: str(),
        host_name: str(),
        status: str(),
        reason: str(),
        status_changed_at: str(),
        access_state: accessState,
        generation: int(),
        last_reconcile: nullable(
          obj({
            run_id: int(),
            trigger: str(),
            outcome: str(),
            started_at: str(),
            duration_ms: nullable(num),
            host_calls: int(),
            findings: arr(finding),
          }),
        ),
      }),
    ),
  }),
  ResourceList: obj({
    items: arr(
      obj({
        host_id: str(),
        type: str(),
        name: str(),
        host_resource_id: nullable(int()),
        state: str(),
        origin: str(),
        batch_id: nullable(str()),
        generation: str(),
        updated_at: str(),
      }),
    ),
  }),
};

const json = (schema: string) => ({ "application/json": { schema: ref(schema) } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? "error", content: json("Error") }]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: "invalid input (the body, a parameter, keys)",
  401: "missing or invalid bearer token",
  404: "not found",
  409: "conflict: another import or rollback is running, or the plan changed or is blocked",
  422: "the pack or the host cannot be used (full report in details)",
  423: "the provider is busy (locked)",
  502: "the host is unreachable or refused the call",
};
const op = (
  summary: string,
  operationId: string,
  ok: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({ summary, operationId, ...extra, responses: { ...ok, ...errors(400, 401, 404, 409, 422, 423, 502) } });
const body = (schema: string) => ({ requestBody: { required: true, content: json(schema) } });
const okJson = (schema: string, status = "200", description = "ok") => ({
  [status]: { description, content: json(schema) },
});
const pathParam = (name: string) => ({ name, in: "path", required: true, schema: str() });
const query = (name: string, description: string, required = false) => ({
  name,
  in: "query",
  required,
  description,
  schema: str(),
});

export function buildOpenApi(version: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "sub2api-cn-relay-manager API",
      version,
      description:
        "Control plane beside a sub2api deployment. Every /api route needs `Authorization: Bearer $RELAY_API_TOKEN`. Errors are `{error: {code, message, details?, hint?, request_id}}`.",
    },
    servers: [{ url: "http://127.0.0.1:8080" }],
    security: [{ bearer: [] }],
    paths: {
      "/healthz": {
        get: {
          summary: "Liveness",
          operationId: "healthz",
          security: [],
          responses: {
            "200": {
              description: "alive",
              content: { "application/json": { schema: obj({ status: { const: "ok" } }) } },
            },
          },
        },
      },
      "/readyz": {
        get: {
          summary: "Readiness (database reachable)",
          operationId: "readyz",
          security: [],
          responses: {
            "200": {
              description: "ready",
              content: { "application/json": { schema: obj({ status: { const: "ready" } }) } },
            },
            "503": {
              description: "not ready",
              content: { "application/json": { schema: obj({ status: str(), reason: str() }) } },
            },
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          operationId: "metrics",
          responses: {
            "200": { description: "text exposition format", content: { "text/plain": { schema: str() } } },
            ...errors(401),
          },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          operationId: "openapi",
          security: [],
          responses: {
            "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: anyObject } } },
          },
        },
      },
      "/docs": {
        get: {
          summary: "Human-readable API reference",
          operationId: "docs",
          security: [],
          responses: { "200": { description: "HTML", content: { "text/html": { schema: str() } } } },
        },
      },
      "/api/hosts": {
        post: op(
          "Register a sub2api host (probes it; stores the admin key encrypted)",
          "addHost",
          okJson("Host", "201", "registered (status may be unsupported, with reasons)"),
          body("AddHostRequest"),
        ),
        get: op("List hosts", "listHosts", okJson("HostList")),
      },
      "/api/hosts/{host_id}": {
        get: op("Show a host (id or name)", "getHost", okJson("Host"), {
          parameters: [pathParam("host_id")],
        }),
      },
      "/api/hosts/{host_id}/probe": {
        post: op("Probe a host again (new capability snapshot)", "probeHost", okJson("Host"), {
          parameters: [pathParam("host_id")],
        }),
      },
      "/api/packs/install": {
        post: op(
          "Install a pack: zip body, multipart field `file`, or {path}",
          "installPack",
          {
            ...okJson("PackInstallResult", "201", "installed, upgraded or downgraded"),
            ...okJson("PackInstallResult", "200", "unchanged"),
          },
          {
            parameters: [query("force", "`true` allows installing an older version")],
            requestBody: {
              required: true,
              content: {
                "application/zip": { schema: str({ contentMediaType: "application/zip" }) },
                "application/octet-stream": { schema: str({ contentMediaType: "application/zip" }) },
                "multipart/form-data": {
                  schema: obj({ file: str({ contentMediaType: "application/zip" }) }),
                },
                "application/json": { schema: ref("InstallPackPath") },
              },
            },
          },
        ),
      },
      "/api/packs": { get: op("List installed packs", "listPacks", okJson("PackList")) },
      "/api/packs/{pack_id}": {
        get: op("Show a pack with its version history", "getPack", okJson("Pack"), {
          parameters: [pathParam("pack_id")],
        }),
      },
      "/api/packs/{pack_id}/providers": {
        get: op("Provider definitions of a pack", "listPackProviders", okJson("ProviderDefinitionList"), {
          parameters: [pathParam("pack_id")],
        }),
      },
      "/api/providers/{provider_id}/preview-import": {
        post: op("Plan an import (reads the host, writes nothing)", "previewImport", okJson("ImportPlan"), {
          parameters: [pathParam("provider_id")],
          ...body("ImportRequest"),
        }),
      },
      "/api/providers/{provider_id}/import": {
        post: op(
          "Import keys (a saga; strict or partial)",
          "importKeys",
          okJson("ImportResult", "200", "the batch ran; `status` says how it ended"),
          { parameters: [pathParam("provider_id")], ...body("ImportRequest") },
        ),
      },
      "/api/providers/{provider_id}/import-batches": {
        get: op("Batches of a provider, newest first", "listImportBatches", okJson("BatchSummaryList"), {
          parameters: [pathParam("provider_id"), query("host_id", "only this host")],
        }),
      },
      "/api/import-batches/{batch_id}": {
        get: op("A batch in full", "getImportBatch", okJson("Batch"), {
          parameters: [pathParam("batch_id")],
        }),
      },
      "/api/import-batches/{batch_id}/rollback": {
        post: op("Roll a batch back (resumable)", "rollbackImportBatch", okJson("Batch"), {
          parameters: [pathParam("batch_id")],
        }),
      },
      "/api/providers/{provider_id}/access/preview": {
        post: op(
          "Who would be subscribed, who has access, what the probe will do",
          "previewAccess",
          okJson("AccessPreview"),
          { parameters: [pathParam("provider_id")], ...body("AccessRequest") },
        ),
      },
      "/api/providers/{provider_id}/access/assign-subscriptions": {
        post: op("Assign subscriptions (idempotent)", "assignSubscriptions", okJson("AssignmentList"), {
          parameters: [pathParam("provider_id")],
          ...body("AccessRequest"),
        }),
      },
      "/api/providers/{provider_id}/access/status": {
        get: op(
          "Access state: last proof, or a new one with probe=true",
          "accessStatus",
          okJson("AccessStatus"),
          {
            parameters: [
              pathParam("provider_id"),
              query("host_id", "host id or name", true),
              query("probe", "`true` proves access now"),
            ],
          },
        ),
      },
      "/api/providers/{provider_id}/reconcile": {
        post: op("Reconcile the provider on a host now", "reconcileProvider", okJson("ReconcileResult"), {
          parameters: [pathParam("provider_id")],
          ...body("ReconcileRequest"),
        }),
      },
      "/api/providers/{provider_id}/status": {
        get: op("Provider status per host", "providerStatus", okJson("ProviderStatus"), {
          parameters: [pathParam("provider_id"), query("host_id", "only this host")],
        }),
      },
      "/api/providers/{provider_id}/resources": {
        get: op("Managed resources of the provider", "providerResources", okJson("ResourceList"), {
          parameters: [pathParam("provider_id"), query("host_id", "only this host")],
        }),
      },
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;

/** A plain, dependency-free reference page (no CDN: operators may run this offline). */
export function renderDocsPage(doc: OpenApiDocument): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const rows = Object.entries(
    doc.paths as Record<
      string,
      Record<
        string,
        { summary: string; operationId: string; responses: Record<string, { description: string }> }
      >
    >,
  )
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, o]) =>
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${esc(path)}</code></td><td>${esc(o.summary)}</td><td>${Object.keys(o.responses).join(", ")}</td></tr>`,
      ),
    )
    .join("\n");
  const models = Object.entries(doc.components.schemas)
    .map(([name, s]) => `<h3 id="${name}">${name}</h3><pre>${esc(JSON.stringify(s, null, 2))}</pre>`)
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}pre{background:#f6f6f6;padding:.6rem;overflow:auto}</style>
</head><body><h1>${esc(doc.info.title)} ${esc(doc.info.version)}</h1><p>${esc(doc.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<table><tr><th>method</th><th>path</th><th>what</th><th>responses</th></tr>
${rows}
</table><h2>Schemas</h2>${models}</body></html>`;
}
