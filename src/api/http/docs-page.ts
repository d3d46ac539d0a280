import type { OpenApiDocument } from "./openapi.js";

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
