import { invalidInput } from "../../../domain/errors.js";
import { parseRetest } from "../../../domain/retest.js";
import { withBalances } from "../../../reconcile/balance.js";
import { reconcileProvider } from "../../../reconcile/runner.js";
import { listProviders, providerResources, providerStatus } from "../../../reconcile/status.js";
import { defineRoute } from "../route.js";
import type { Body } from "../schemas/responses.js";
import { boolQuery, page } from "../validate.js";

const onHost = "only this host";

/** /api/providers: the providers of the installed packs, their status and resources (`relay provider …`). */
export const providerRoutes = [
  defineRoute({
    method: "get",
    path: "/api/providers",
    summary: "Providers of the installed packs, with their status on each host",
    operationId: "listProviders",
    query: { host_id: onHost },
    responses: { 200: "ProviderList" },
    handler: async (c, { query }, { ctx }) =>
      c.json(page(c, await listProviders(ctx, query.host_id || undefined)) satisfies Body<"ProviderList">),
  }),
  defineRoute({
    method: "post",
    path: "/api/providers/{provider_id}/reconcile",
    summary: "Reconcile the provider on a host now",
    operationId: "reconcileProvider",
    body: "ReconcileRequest",
    responses: { 200: "ReconcileResult" },
    handler: async (c, { params, body }, { ctx }) =>
      c.json(
        (await reconcileProvider(
          ctx,
          { hostRef: body.host_id, providerId: params.provider_id },
          {
            trigger: "manual",
            heal: body.heal === true,
            ...(body.retest ? { retest: parseRetest(body.retest) } : {}),
          },
        )) satisfies Body<"ReconcileResult">,
      ),
  }),
  defineRoute({
    method: "get",
    path: "/api/providers/{provider_id}/status",
    summary: "Provider status per host",
    operationId: "providerStatus",
    query: {
      host_id: onHost,
      balance:
        "true: each account's provider balance, asked through the host where it can tell (sub2api 0.1.178+, Kimi CN and DeepSeek pay-as-you-go accounts)",
    },
    responses: { 200: "ProviderStatus" },
    handler: async (c, { params, query }, { ctx }) => {
      const wantBalance = boolQuery(c, "balance");
      const view = await providerStatus(ctx, params.provider_id, query.host_id || undefined);
      return c.json((wantBalance ? await withBalances(ctx, view) : view) satisfies Body<"ProviderStatus">);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/providers/{provider_id}/resources",
    summary: "Managed resources of the provider",
    operationId: "providerResources",
    query: { host_id: onHost },
    paged: true,
    responses: { 200: "ResourceList" },
    handler: async (c, { params, query }, { ctx }) => {
      if (query.host_id === "") throw invalidInput("HOST_REQUIRED", "host_id must not be empty");
      const resources = await providerResources(ctx, params.provider_id, query.host_id);
      return c.json(page(c, resources) satisfies Body<"ResourceList">);
    },
  }),
];
