import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { addHost, getHost, listHosts, probeHost } from "../../../hosts/hosts.js";
import { ajv, jsonBody } from "../validate.js";

export interface AddHostBody {
  name: string;
  base_url: string;
  auth: { type: "admin_api_key"; token: string };
  probe_identity?: "auto" | "user" | "none";
  probe_user?: { email: string; password: string };
}

export const addHostSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "base_url", "auth"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 63 },
    base_url: { type: "string", minLength: 1, maxLength: 2048 },
    auth: {
      type: "object",
      additionalProperties: false,
      required: ["type", "token"],
      properties: {
        type: { const: "admin_api_key" },
        token: { type: "string", minLength: 1, maxLength: 512 },
      },
    },
    probe_identity: { enum: ["auto", "user", "none"] },
    probe_user: {
      type: "object",
      additionalProperties: false,
      required: ["email", "password"],
      properties: {
        email: { type: "string", minLength: 3, maxLength: 254 },
        password: { type: "string", minLength: 6, maxLength: 256 },
      },
    },
  },
} as const;

const validateAddHost = ajv.compile<AddHostBody>(addHostSchema);

export function hostRoutes(ctx: AppContext) {
  const app = new Hono();
  app.post("/", async (c) => {
    const body = await jsonBody(c, validateAddHost);
    const host = await addHost(ctx, {
      name: body.name,
      baseUrl: body.base_url,
      adminKey: body.auth.token,
      ...(body.probe_identity ? { probeIdentity: body.probe_identity } : {}),
      ...(body.probe_user ? { probeUser: body.probe_user } : {}),
    });
    return c.json(host, 201);
  });
  app.get("/", (c) => c.json({ items: listHosts(ctx) }));
  app.get("/:host_id", (c) => c.json(getHost(ctx, c.req.param("host_id"))));
  app.post("/:host_id/probe", async (c) => c.json(await probeHost(ctx, c.req.param("host_id"))));
  return app;
}
