import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import { getPack, installPack, listPackProviders, listPacks, type PackSource } from "../../../packs/packs.js";
import { InstallPackPath } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { ajv, jsonBody } from "../validate.js";

const validateInstallPath = ajv.compile<InstallPackPath>(InstallPackPath);

/**
 * POST /api/packs/install takes a zip as the raw body (application/zip or
 * application/octet-stream), as multipart form field `file`, or `{ "path": "…" }` naming a pack
 * directory or zip on the server.
 */
export function packRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/install", async (c) => {
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    let source: PackSource;
    let force = c.req.query("force") === "true";
    if (type.startsWith("application/json")) {
      const body = await jsonBody(c, validateInstallPath);
      source = { kind: "path", path: body.path };
      force = force || body.force === true;
    } else if (type.startsWith("application/zip") || type.startsWith("application/octet-stream")) {
      const data = Buffer.from(await c.req.arrayBuffer());
      if (data.length === 0) throw invalidInput("EMPTY_BODY", "the request body is empty; send the pack zip");
      source = { kind: "zip", data, label: "upload" };
    } else if (type.startsWith("multipart/form-data")) {
      const form = await c.req.parseBody();
      const file = form.file;
      if (!(file instanceof File))
        throw invalidInput("MISSING_FILE", 'multipart body needs a "file" field holding the pack zip');
      source = { kind: "zip", data: Buffer.from(await file.arrayBuffer()), label: `upload:${file.name}` };
    } else {
      throw invalidInput(
        "UNSUPPORTED_CONTENT_TYPE",
        `send application/zip, multipart/form-data or application/json, not "${type || "none"}"`,
      );
    }
    const result = await installPack(ctx, source, { force });
    return c.json(result satisfies Body<"PackInstallResult">, result.outcome === "unchanged" ? 200 : 201);
  });
  app.get("/", (c) => c.json({ items: listPacks(ctx) } satisfies Body<"PackList">));
  app.get("/:pack_id", (c) => c.json(getPack(ctx, c.req.param("pack_id")) satisfies Body<"Pack">));
  app.get("/:pack_id/providers", (c) => c.json({ items: listPackProviders(ctx, c.req.param("pack_id")) }));
  return app;
}
