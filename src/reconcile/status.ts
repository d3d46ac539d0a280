import type { AppContext } from "../app/context.js";
import type { AccessState } from "../domain/access.js";
import type { Finding } from "../domain/drift.js";
import { notFound } from "../domain/errors.js";
import { findHost } from "../store/hosts.js";
import { installsOf } from "../store/installs.js";
import { getProviderDefinition } from "../store/packs.js";
import { lastRun } from "../store/reconcile-runs.js";
import { resourcesOf } from "../store/resources.js";
export interface ProviderHostStatus {
  host_id: string;
  host_name: string;
  status: string;
  reason: string;
  status_changed_at: string;
  access_state: AccessState;
  generation: number;
  last_reconcile: {
    run_id: number;
    trigger: string;
    outcome: string;
    started_at: string;
    duration_ms: number | null;
    host_calls: number;
    findings: Finding[];
  } | null;
}

export interface ProviderStatusView {
  provider_id: string;
  hosts: ProviderHostStatus[];
}

export function providerStatus(ctx: AppContext, providerId: string, hostRef?: string): ProviderStatusView {
  const hostId = hostRef ? findHost(ctx, hostRef).id : undefined;
  const installs = installsOf(ctx, providerId, hostId);
  if (installs.length === 0)
    throw notFound(
      "PROVIDER_NOT_ON_HOST",
      `${providerId} has never been imported${hostRef ? ` on ${hostRef}` : ""}`,
    );
  return {
    provider_id: providerId,
    hosts: installs.map(({ install: i, hostName }) => {
      const run = lastRun(ctx, i.hostId, providerId);
      return {
        host_id: i.hostId,
        host_name: hostName,
        status: i.status,
        reason: i.statusReason,
        status_changed_at: i.statusChangedAt,
        access_state: i.accessState,
        generation: i.generation,
        last_reconcile: run
          ? {
              run_id: run.id,
              trigger: run.trigger,
              outcome: run.outcome,
              started_at: run.startedAt,
              duration_ms: run.durationMs,
              host_calls: run.hostCalls,
              findings: run.findings,
            }
          : null,
      };
    }),
  };
}

export interface ResourceView {
  host_id: string;
  type: string;
  name: string;
  host_resource_id: number | null;
  state: string;
  origin: string;
  batch_id: string | null;
  generation: string;
  updated_at: string;
}

export function providerResources(ctx: AppContext, providerId: string, hostRef?: string): ResourceView[] {
  getProviderDefinition(ctx, providerId); // 404 for a provider no installed pack defines
  const hostId = hostRef ? findHost(ctx, hostRef).id : undefined;
  return resourcesOf(ctx, providerId, hostId).map((r) => ({
    host_id: r.hostId,
    type: r.resourceType,
    name: r.name,
    host_resource_id: r.hostResourceId,
    state: r.state,
    origin: r.origin,
    batch_id: r.batchId,
    generation: r.logicalKey.split(":")[0] ?? "",
    updated_at: r.updatedAt,
  }));
}
