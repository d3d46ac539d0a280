import { realpathSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import type { Context } from "hono";
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
import { objectOf, ref, str } from "../openapi-parts.js";
import { defineRoute } from "../route.js";
import { InstallPackPath } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, jsonBody, page, validator } from "../validate.js";

const validateInstallPath = validator<InstallPackPath>(InstallPackPath);

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

const zip = { schema: { ...str, contentMediaType: "application/zip" } };

/**
 * The pack a POST /api/packs/install names: a zip as the raw body (application/zip or
 * application/octet-stream), as multipart form field `file`, or `{ "path": "…" }` naming a pack
 * directory or zip inside RELAY_PACKS_DIR on the server.
 */
async function packSource(
  ctx: AppContext,
  c: Context,
  force: boolean,
): Promise<{ source: PackSource; force: boolean }> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("application/json")) {
    const body = await jsonBody(c, validateInstallPath);
    const path = allowedPackPath(ctx.config.packsDir, body.path);
    const shown = relative(ctx.config.packsDir as string, path) || ".";
    return { source: { kind: "path", path, shown }, force: force || body.force === true };
  }
  if (type.startsWith("application/zip") || type.startsWith("application/octet-stream")) {
    const data = Buffer.from(await c.req.arrayBuffer());
    if (data.length === 0) throw invalidInput("EMPTY_BODY", "the request body is empty; send the pack zip");
    return { source: { kind: "zip", data, label: "upload" }, force };
  }
  if (type.startsWith("multipart/form-data")) {
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
    return {
      source: { kind: "zip", data: Buffer.from(await file.arrayBuffer()), label: `upload:${file.name}` },
      force,
    };
  }
  throw invalidInput(
    "UNSUPPORTED_CONTENT_TYPE",
    `send application/zip, multipart/form-data or application/json, not "${type || "none"}"`,
  );
}

/** /api/packs: the model packs installed in relay (`relay pack …`). */
export const packRoutes = [
  defineRoute({
    method: "post",
    path: "/api/packs/install",
    summary:
      "Install a pack: zip body, multipart field `file`, or {path} inside the server's RELAY_PACKS_DIR (unset: uploads only)",
    operationId: "installPack",
    query: { force: "`true` allows installing an older version" },
    rawBody: {
      required: true,
      content: {
        "application/zip": zip,
        "application/octet-stream": zip,
        "multipart/form-data": { schema: objectOf({ file: zip.schema }) },
        "application/json": { schema: ref("InstallPackPath") },
      },
    },
    responses: {
      201: ["PackInstallResult", "installed, upgraded or downgraded"],
      200: ["PackInstallResult", "unchanged"],
    },
    handler: async (c, _, { ctx }) => {
      const { source, force } = await packSource(ctx, c, boolQuery(c, "force"));
      const result = await installPack(ctx, source, { force });
      return c.json(result satisfies Body<"PackInstallResult">, result.outcome === "unchanged" ? 200 : 201);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/packs",
    summary: "List installed packs",
    operationId: "listPacks",
    paged: true,
    responses: { 200: "PackList" },
    handler: async (c, _, { ctx }) => c.json(page(c, await listPacks(ctx)) satisfies Body<"PackList">),
  }),
  defineRoute({
    method: "get",
    path: "/api/packs/{pack_id}",
    summary: "Show a pack with its version history",
    operationId: "getPack",
    responses: { 200: "Pack" },
    handler: async (c, { params }, { ctx }) =>
      c.json((await getPack(ctx, params.pack_id)) satisfies Body<"Pack">),
  }),
  defineRoute({
    method: "delete",
    path: "/api/packs/{pack_id}",
    summary: "Remove an installed pack; 409 PACK_IN_USE while a host has records of its providers",
    operationId: "removePack",
    body: "EmptyRequest",
    bodyOptional: true,
    responses: { 200: "PackRemoval" },
    handler: async (c, { params }, { ctx }) =>
      c.json((await removePack(ctx, params.pack_id)) satisfies Body<"PackRemoval">),
  }),
  defineRoute({
    method: "get",
    path: "/api/packs/{pack_id}/providers",
    summary: "Provider definitions of a pack",
    operationId: "listPackProviders",
    responses: { 200: "ProviderDefinitionList" },
    handler: async (c, { params }, { ctx }) =>
      c.json({ items: await listPackProviders(ctx, params.pack_id) }),
  }),
];
