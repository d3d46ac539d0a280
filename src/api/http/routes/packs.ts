import { realpathSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { type Context, Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { invalidInput } from "../../../domain/errors.js";
import {
  getPack,
  installPack,
  listPackProviders,
  listPacks,
  type PackSource,
  removePack,
} from "../../../packs/packs.js";
import { printable } from "../../../util/sanitize.js";
import { EmptyRequest, InstallPackPath } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, jsonBody, page, validator } from "../validate.js";

const validateInstallPath = validator<InstallPackPath>(InstallPackPath);
const validateEmpty = validator<EmptyRequest>(EmptyRequest);

/**
 * A server path the API may install from: inside RELAY_PACKS_DIR (relative to it), checked before
 * anything is read and again after symlinks are resolved. Refusals name no server file.
 */
function allowedPackPath(packsDir: string | undefined, path: string): string {
  if (!packsDir)
    throw invalidInput("PACK_PATH_INSTALL_DISABLED", "this server does not install packs from server paths", {
      hint: "Upload the pack as a zip (application/zip, or multipart field `file`), or set RELAY_PACKS_DIR on the server.",
    });
  const outside = () =>
    invalidInput(
      "PACK_PATH_NOT_ALLOWED",
      "the path is outside the directory this server installs packs from",
      {
        hint: "Give a path relative to RELAY_PACKS_DIR, or upload the pack as a zip.",
      },
    );
  const inside = (p: string) => p === packsDir || p.startsWith(`${packsDir}${sep}`);
  const target = resolve(packsDir, path);
  if (!inside(target)) throw outside();
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw invalidInput("PACK_PATH_NOT_FOUND", "no pack at that path in RELAY_PACKS_DIR");
  }
  if (!inside(real)) throw outside();
  return real;
}

/** The form of a multipart body; one without a boundary, or not split by it, is bad input (was a 500). */
async function multipartForm(c: Context) {
  const type = c.req.header("content-type") ?? "";
  const refused = () =>
    invalidInput("INVALID_MULTIPART", "the multipart body cannot be read", {
      hint: 'Send Content-Type multipart/form-data; boundary=… with the zip in a part named "file" (curl -F file=@pack.zip does).',
    });
  if (!/;\s*boundary=("[^"]+"|[^\s;]+)/i.test(type)) throw refused();
  try {
    return await c.req.parseBody();
  } catch {
    throw refused();
  }
}

/**
 * POST /api/packs/install takes a zip as the raw body (application/zip or
 * application/octet-stream), as multipart form field `file`, or `{ "path": "…" }` naming a pack
 * directory or zip inside RELAY_PACKS_DIR on the server.
 */
export function packRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/install", async (c) => {
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    let source: PackSource;
    let force = boolQuery(c, "force");
    if (type.startsWith("application/json")) {
      const body = await jsonBody(c, validateInstallPath);
      const path = allowedPackPath(ctx.config.packsDir, body.path);
      source = { kind: "path", path, shown: relative(ctx.config.packsDir as string, path) || "." };
      force = force || body.force === true;
    } else if (type.startsWith("application/zip") || type.startsWith("application/octet-stream")) {
      const data = Buffer.from(await c.req.arrayBuffer());
      if (data.length === 0) throw invalidInput("EMPTY_BODY", "the request body is empty; send the pack zip");
      source = { kind: "zip", data, label: "upload" };
    } else if (type.startsWith("multipart/form-data")) {
      const form = await multipartForm(c);
      const unknown = Object.keys(form).filter((k) => k !== "file");
      if (unknown.length > 0)
        throw invalidInput("INVALID_REQUEST", "request body does not match the schema", {
          details: unknown.map((k) => ({
            pointer: "/",
            message: `unknown field "${printable(k, { max: 64 })}"`,
          })),
        });
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
  app.get("/", async (c) => c.json(page(c, await listPacks(ctx)) satisfies Body<"PackList">));
  app.delete("/:pack_id", async (c) => {
    await jsonBody(c, validateEmpty, { optional: true });
    return c.json((await removePack(ctx, c.req.param("pack_id"))) satisfies Body<"PackRemoval">);
  });
  app.get("/:pack_id", async (c) =>
    c.json((await getPack(ctx, c.req.param("pack_id"))) satisfies Body<"Pack">),
  );
  app.get("/:pack_id/providers", async (c) =>
    c.json({ items: await listPackProviders(ctx, c.req.param("pack_id")) }),
  );
  return app;
}
