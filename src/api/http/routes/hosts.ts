import { addHost, getHost, listHosts, probeHost, removeHost } from "../../../hosts/hosts.js";
import { removeProbeUser } from "../../../hosts/probe-user.js";
import { defineRoute } from "../route.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, page } from "../validate.js";

/** /api/hosts: the sub2api hosts relay manages (`relay host …`). */
export const hostRoutes = [
  defineRoute({
    method: "post",
    path: "/api/hosts",
    summary: "Register a sub2api host (probes it; stores the admin key encrypted)",
    operationId: "addHost",
    body: "AddHostRequest",
    responses: { 201: ["Host", "registered (status may be unsupported, with reasons)"] },
    handler: async (c, { body }, { ctx }) => {
      const host = await addHost(ctx, {
        name: body.name,
        baseUrl: body.base_url,
        adminKey: body.auth.token,
        ...(body.probe_identity ? { probeIdentity: body.probe_identity } : {}),
        ...(body.probe_user ? { probeUser: body.probe_user } : {}),
      });
      return c.json(host satisfies Body<"Host">, 201);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/hosts",
    summary: "List hosts",
    operationId: "listHosts",
    paged: true,
    responses: { 200: "HostList" },
    handler: async (c, _, { ctx }) => c.json(page(c, await listHosts(ctx)) satisfies Body<"HostList">),
  }),
  defineRoute({
    method: "get",
    path: "/api/hosts/{host_id}",
    summary: "Show a host (id or name)",
    operationId: "getHost",
    responses: { 200: "Host" },
    handler: async (c, { params }, { ctx }) =>
      c.json((await getHost(ctx, params.host_id)) satisfies Body<"Host">),
  }),
  defineRoute({
    method: "delete",
    path: "/api/hosts/{host_id}",
    summary:
      "Remove a host and forget relay's records of it (never changes the host); 409 HOST_IN_USE while resources relay made are live there",
    operationId: "removeHost",
    query: { force: "`true` forgets live resources (they stay on the host)" },
    body: "EmptyRequest",
    bodyOptional: true,
    responses: { 200: "HostRemoval" },
    handler: async (c, { params }, { ctx }) =>
      c.json(
        (await removeHost(ctx, params.host_id, {
          force: boolQuery(c, "force"),
        })) satisfies Body<"HostRemoval">,
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/api/hosts/{host_id}/probe-user",
    summary:
      "Remove relay's own probe user from the host: its subscriptions relay assigned are revoked, the user is deleted (sub2api deletes its API keys with it), the host's probe identity is forgotten; the next access proof creates a new probe user under a new address. 400 PROBE_USER_NOT_RELAYS for an operator's probe user; safe to repeat",
    operationId: "removeProbeUser",
    query: { dry_run: "`true` says what would be removed and changes nothing" },
    body: "EmptyRequest",
    bodyOptional: true,
    responses: { 200: "ProbeUserRemoval" },
    handler: async (c, { params }, { ctx }) =>
      c.json(
        (await removeProbeUser(ctx, params.host_id, {
          dryRun: boolQuery(c, "dry_run"),
        })) satisfies Body<"ProbeUserRemoval">,
      ),
  }),
  defineRoute({
    method: "post",
    path: "/api/hosts/{host_id}/probe",
    summary: "Probe a host again (new capability snapshot)",
    operationId: "probeHost",
    body: "EmptyRequest",
    bodyOptional: true,
    responses: { 200: "Host" },
    handler: async (c, { params }, { ctx }) =>
      c.json((await probeHost(ctx, params.host_id)) satisfies Body<"Host">),
  }),
];
