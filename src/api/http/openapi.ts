import { PackManifestSchema, ProviderDefinitionSchema } from "../../domain/pack/schema.js";
import { errors, jsonOf, objectOf, open, ref, type Schema, str } from "./openapi-parts.js";
import { routePaths } from "./route.js";
import { apiRoutes } from "./routes/index.js";
import { requestSchemas } from "./schemas/requests.js";
import { responseSchemas } from "./schemas/responses.js";

/**
 * The OpenAPI 3.1 document: its /api paths from the route declarations the app is served from
 * (routes/*.ts, route.ts), its components from the same schemas the handlers validate with and are
 * typed by (schemas/requests.ts, schemas/responses.ts). The system paths (/healthz, /docs, the
 * board) are declared below, beside no handler logic worth sharing. `npm run openapi` writes it to
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
    paths: { ...systemPaths(), ...routePaths(apiRoutes) },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
