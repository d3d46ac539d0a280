import { Hono } from "hono";
import type { AppContext } from "../../../app/context.js";
import { addHost, getHost, listHosts, probeHost, removeHost } from "../../../hosts/hosts.js";
import { removeProbeUser } from "../../../hosts/probe-user.js";
import { AddHostRequest, EmptyRequest } from "../schemas/requests.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, jsonBody, page, validator } from "../validate.js";

const validateAddHost = validator<AddHostRequest>(AddHostRequest);
const validateEmpty = validator<EmptyRequest>(EmptyRequest);

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
    return c.json(host satisfies Body<"Host">, 201);
  });
  app.get("/", async (c) => c.json(page(c, await listHosts(ctx)) satisfies Body<"HostList">));
  app.get("/:host_id", async (c) =>
    c.json((await getHost(ctx, c.req.param("host_id"))) satisfies Body<"Host">),
  );
  app.delete("/:host_id", async (c) => {
    await jsonBody(c, validateEmpty, { optional: true });
    return c.json(
      (await removeHost(ctx, c.req.param("host_id"), {
        force: boolQuery(c, "force"),
      })) satisfies Body<"HostRemoval">,
    );
  });
  app.delete("/:host_id/probe-user", async (c) => {
    await jsonBody(c, validateEmpty, { optional: true });
    return c.json(
      (await removeProbeUser(ctx, c.req.param("host_id"), {
        dryRun: boolQuery(c, "dry_run"),
      })) satisfies Body<"ProbeUserRemoval">,
    );
  });
  app.post("/:host_id/probe", async (c) => {
    await jsonBody(c, validateEmpty, { optional: true });
    return c.json((await probeHost(ctx, c.req.param("host_id"))) satisfies Body<"Host">);
  });
  return app;
}
