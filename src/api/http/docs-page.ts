import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";

/**
 * The API reference at /docs: Swagger UI (swagger-ui-dist, read from node_modules, so nothing is
 * fetched from another origin) rendering /openapi.json, schemas included. The page has no inline
 * script or style: its one start-up call is the same-origin /docs/init.js below. Swagger UI
 * renders markdown through innerHTML, so the board's Trusted Types rule is not applied here.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The start-up script, served as a file so that the policy can forbid inline script. */
const INIT_JS = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // No "validator badge": it would send the document to another origin.
  validatorUrl: null,
});
`;

const ASSETS: Record<string, { file: string; type: string }> = {
  "/docs/swagger-ui.css": { file: "swagger-ui.css", type: "text/css; charset=utf-8" },
  "/docs/swagger-ui-bundle.js": { file: "swagger-ui-bundle.js", type: "text/javascript; charset=utf-8" },
};

export function renderDocsPage(title: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head><body>
<noscript>The reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>
`;
}

/** Where swagger-ui-dist is installed (beside relay's other production dependencies). */
export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

export function docsRoutes(title: string, dir: () => string = swaggerUiDir) {
  const app = new Hono();
  const cache = new Map<string, string>();
  // Read on first request, not at start-up (the bundle is about 1.5 MB).
  const load = (file: string) => {
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(join(dir(), file), "utf8");
      cache.set(file, body);
    }
    return body;
  };
  app.get("/docs", (c) => {
    c.header("Content-Security-Policy", DOCS_CSP);
    return c.html(renderDocsPage(title));
  });
  app.get("/docs/init.js", (c) => {
    c.header("Content-Security-Policy", DOCS_CSP);
    return c.body(INIT_JS, 200, { "content-type": "text/javascript; charset=utf-8" });
  });
  for (const [path, asset] of Object.entries(ASSETS))
    app.get(path, (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      return c.body(load(asset.file), 200, { "content-type": asset.type });
    });
  return app;
}
