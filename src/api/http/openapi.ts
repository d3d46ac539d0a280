import { PackManifestSchema, ProviderDefinitionSchema } from "../../domain/pack/schema.js";
import {
  body,
  errors,
  jsonOf,
  objectOf,
  okJson,
  op,
  open,
  optionalBody,
  pathParam,
  query,
  ref,
  type Schema,
  str,
} from "./openapi-parts.js";
import { requestSchemas } from "./schemas/requests.js";
import { responseSchemas } from "./schemas/responses.js";

/**
 * The OpenAPI 3.1 document, built from the same schemas the handlers validate with and are typed
 * by (schemas/requests.ts, schemas/responses.ts). `npm run openapi` writes it to
 * docs/api/openapi.yaml; a test fails when the file, the routes or the real responses disagree.
 */
/** A schema as JSON (TypeBox's own markers and `$id`s left out). */
const plain = (s: unknown): Schema => JSON.parse(JSON.stringify(s, (k, v) => (k === "$id" ? undefined : v)));

export const schemas: Record<string, Schema> = Object.fromEntries(
  Object.entries({
    ...responseSchemas,
    ...requestSchemas,
    PackManifest: PackManifestSchema,
    ProviderDefinition: ProviderDefinitionSchema,
    ProviderDefinitionList: {
      type: "object",
      properties: { items: { type: "array", items: ref("ProviderDefinition") } },
      required: ["items"],
    },
  }).map(([name, s]) => [name, plain(s)]),
);

function systemPaths() {
  return {
    "/healthz": open("Liveness", "healthz", {
      "200": jsonOf("alive", objectOf({ status: { const: "ok" } })),
    }),
    "/readyz": open(
      "Readiness (database reachable, not shutting down); the store, and whether this replica runs the scheduled reconciles",
      "readyz",
      {
        "200": jsonOf("ready", {
          ...objectOf({ status: { const: "ready" }, store: { enum: ["sqlite", "postgres"] } }),
          properties: {
            status: { const: "ready" },
            store: { enum: ["sqlite", "postgres"] },
            scheduler_leader: {
              type: "boolean",
              description: "under `relay serve`: this replica runs the ticks",
            },
          },
        }),
        "503": jsonOf("not ready", objectOf({ status: str, reason: str })),
      },
    ),
    "/metrics": {
      get: {
        summary: "Prometheus metrics",
        operationId: "metrics",
        responses: {
          "200": { description: "text exposition format", content: { "text/plain": { schema: str } } },
          ...errors(401),
        },
      },
    },
    "/openapi.json": open("This document", "openapi", { "200": jsonOf("OpenAPI 3.1", { type: "object" }) }),
    "/docs": open("The API reference (Swagger UI, served locally, rendering /openapi.json)", "docs", {
      "200": { description: "HTML", content: { "text/html": { schema: str } } },
    }),
    "/docs/init.js": open(
      "The reference page's start-up script (same origin only, under its CSP)",
      "docsInit",
      {
        "200": { description: "JavaScript", content: { "text/javascript": { schema: str } } },
      },
    ),
    "/docs/swagger-ui-bundle.js": open("Swagger UI (from swagger-ui-dist)", "docsScript", {
      "200": { description: "JavaScript", content: { "text/javascript": { schema: str } } },
    }),
    "/docs/swagger-ui.css": open("Swagger UI's style sheet (from swagger-ui-dist)", "docsStyle", {
      "200": { description: "CSS", content: { "text/css": { schema: str } } },
    }),
    "/": open(
      "The read-only web status board (static page; its data comes from /api/* with the token). See docs/board.md",
      "board",
      {
        "200": { description: "HTML", content: { "text/html": { schema: str } } },
        "404": { description: "The board is not built in this installation (run npm run build)" },
      },
    ),
    "/board/board.js": open("The board's script (same origin only, under its CSP)", "boardScript", {
      "200": { description: "JavaScript", content: { "text/javascript": { schema: str } } },
    }),
    "/board/board.css": open("The board's style sheet", "boardStyle", {
      "200": { description: "CSS", content: { "text/css": { schema: str } } },
    }),
  };
}

/** `?limit` and `?cursor` of every list endpoint. */
function paging() {
  return [
    query("limit", "items per page, 1 to 1000 (default 1000)"),
    query("cursor", "`next_cursor` of the previous page"),
  ];
}

function hostAndPackPaths() {
  const zip = { schema: { ...str, contentMediaType: "application/zip" } };
  return {
    "/api/hosts": {
      post: op(
        "Register a sub2api host (probes it; stores the admin key encrypted)",
        "addHost",
        okJson("Host", "201", "registered (status may be unsupported, with reasons)"),
        body("AddHostRequest"),
      ),
      get: op("List hosts", "listHosts", okJson("HostList"), { parameters: paging() }),
    },
    "/api/hosts/{host_id}": {
      get: op("Show a host (id or name)", "getHost", okJson("Host"), { parameters: [pathParam("host_id")] }),
      delete: op(
        "Remove a host and forget relay's records of it (never changes the host); 409 HOST_IN_USE while resources relay made are live there",
        "removeHost",
        okJson("HostRemoval"),
        {
          parameters: [
            pathParam("host_id"),
            query("force", "`true` forgets live resources (they stay on the host)"),
          ],
          ...optionalBody("EmptyRequest"),
        },
      ),
    },
    "/api/hosts/{host_id}/probe-user": {
      delete: op(
        "Remove relay's own probe user from the host: its subscriptions relay assigned are revoked, the user is deleted (sub2api deletes its API keys with it), the host's probe identity is forgotten; the next access proof creates a new probe user under a new address. 400 PROBE_USER_NOT_RELAYS for an operator's probe user; safe to repeat",
        "removeProbeUser",
        okJson("ProbeUserRemoval"),
        {
          parameters: [
            pathParam("host_id"),
            query("dry_run", "`true` says what would be removed and changes nothing"),
          ],
          ...optionalBody("EmptyRequest"),
        },
      ),
    },
    "/api/hosts/{host_id}/probe": {
      post: op("Probe a host again (new capability snapshot)", "probeHost", okJson("Host"), {
        parameters: [pathParam("host_id")],
        ...optionalBody("EmptyRequest"),
      }),
    },
    "/api/packs/install": {
      post: op(
        "Install a pack: zip body, multipart field `file`, or {path} inside the server's RELAY_PACKS_DIR (unset: uploads only)",
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
              "application/zip": zip,
              "application/octet-stream": zip,
              "multipart/form-data": { schema: objectOf({ file: zip.schema }) },
              "application/json": { schema: ref("InstallPackPath") },
            },
          },
        },
      ),
    },
    "/api/packs": {
      get: op("List installed packs", "listPacks", okJson("PackList"), { parameters: paging() }),
    },
    "/api/packs/{pack_id}": {
      get: op("Show a pack with its version history", "getPack", okJson("Pack"), {
        parameters: [pathParam("pack_id")],
      }),
      delete: op(
        "Remove an installed pack; 409 PACK_IN_USE while a host has records of its providers",
        "removePack",
        okJson("PackRemoval"),
        { parameters: [pathParam("pack_id")], ...optionalBody("EmptyRequest") },
      ),
    },
    "/api/packs/{pack_id}/providers": {
      get: op("Provider definitions of a pack", "listPackProviders", okJson("ProviderDefinitionList"), {
        parameters: [pathParam("pack_id")],
      }),
    },
  };
}

function importPaths() {
  const provider = pathParam("provider_id");
  return {
    "/api/providers/{provider_id}/preview-import": {
      post: op("Plan an import (reads the host, writes nothing)", "previewImport", okJson("ImportPlan"), {
        parameters: [provider],
        ...body("ImportRequest"),
      }),
    },
    "/api/providers/{provider_id}/import": {
      post: op(
        "Import keys (a saga; strict or partial). Answers 202 once the batch is recorded, with `Location` to poll (GET the batch until its status is final); `?wait=true` answers with the result instead",
        "importKeys",
        {
          ...okJson("ImportAccepted", "202", "the batch is recorded and running; poll `location`"),
          ...okJson("ImportResult", "200", "with wait=true: the batch ran; `status` says how it ended"),
        },
        {
          parameters: [provider, query("wait", "`true` answers when the batch has ended, with its result")],
          ...body("ImportRequest"),
        },
      ),
    },
    "/api/providers/{provider_id}/import-batches": {
      get: op("Batches of a provider, newest first", "listImportBatches", okJson("BatchSummaryList"), {
        parameters: [provider, query("host_id", "only this host"), ...paging()],
      }),
    },
    "/api/import-batches/{batch_id}": {
      get: op("A batch in full", "getImportBatch", okJson("Batch"), { parameters: [pathParam("batch_id")] }),
    },
    "/api/import-batches/{batch_id}/rollback": {
      post: op(
        "Roll a batch back (resumable); with `dry_run: true` answer what would be deleted, in order, and change nothing",
        "rollbackImportBatch",
        okJson("RollbackAnswer", "200", "rolled back: the batch; with dry_run: what would be deleted"),
        { parameters: [pathParam("batch_id")], ...optionalBody("RollbackRequest") },
      ),
    },
  };
}

function accessAndReconcilePaths() {
  const provider = pathParam("provider_id");
  const onHost = query("host_id", "only this host");
  return {
    "/api/providers/{provider_id}/access/preview": {
      post: op(
        "Who would be subscribed, who has access, what the probe will do",
        "previewAccess",
        okJson("AccessPreview"),
        { parameters: [provider], ...body("AccessRequest") },
      ),
    },
    "/api/providers/{provider_id}/access/assign-subscriptions": {
      post: op("Assign subscriptions (idempotent)", "assignSubscriptions", okJson("AssignmentList"), {
        parameters: [provider],
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
            provider,
            query("host_id", "host id or name", true),
            query("probe", "`true` proves access now"),
          ],
        },
      ),
    },
    "/api/providers": {
      get: op(
        "Providers of the installed packs, with their status on each host",
        "listProviders",
        okJson("ProviderList"),
        {
          parameters: [onHost],
        },
      ),
    },
    "/api/providers/{provider_id}/reconcile": {
      post: op("Reconcile the provider on a host now", "reconcileProvider", okJson("ReconcileResult"), {
        parameters: [provider],
        ...body("ReconcileRequest"),
      }),
    },
    "/api/providers/{provider_id}/migrate": {
      post: op(
        "After a pack upgrade that renames models: alias each old name to its replacement on the accounts and channel relay made (dry_run: the plan)",
        "migrateProvider",
        okJson("MigrationAnswer"),
        { parameters: [provider], ...body("MigrateRequest") },
      ),
    },
    "/api/providers/{provider_id}/status": {
      get: op("Provider status per host", "providerStatus", okJson("ProviderStatus"), {
        parameters: [provider, onHost],
      }),
    },
    "/api/providers/{provider_id}/resources": {
      get: op("Managed resources of the provider", "providerResources", okJson("ResourceList"), {
        parameters: [provider, onHost, ...paging()],
      }),
    },
    ...policyPaths(provider),
  };
}

/** The health policy (docs/operations.md "Health policy"): observe by default, enforced per provider. */
function policyPaths(provider: Schema) {
  return {
    "/api/providers/{provider_id}/policy": {
      get: op(
        "Health policy of the provider on a host: mode, health, watched accounts, events",
        "getPolicy",
        okJson("PolicyView"),
        {
          parameters: [provider, query("host_id", "the host", true)],
        },
      ),
      put: op("Switch enforcement on or off, set the thresholds", "setPolicy", okJson("PolicyView"), {
        parameters: [provider],
        ...body("PolicyRequest"),
      }),
    },
    "/api/providers/{provider_id}/policy/release": {
      post: op(
        "Hand control back: enforcement off, what relay paused resumed, latches cleared",
        "releasePolicy",
        okJson("PolicyRelease"),
        {
          parameters: [provider],
          ...body("ReleaseRequest"),
        },
      ),
    },
    "/api/providers/{provider_id}/rotate": {
      post: op(
        "Rotate keys in place: each new key proven first, written, the account tested; same ids and bindings (dry_run: the plan)",
        "rotateKeys",
        okJson("RotationAnswer"),
        {
          parameters: [provider],
          ...body("RotateRequest"),
        },
      ),
    },
  };
}

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
    paths: { ...systemPaths(), ...hostAndPackPaths(), ...importPaths(), ...accessAndReconcilePaths() },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
