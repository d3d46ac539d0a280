import type { Finding } from "../domain/drift.js";
import type { ProviderDefinition } from "../domain/pack/schema.js";
import type { HostAdapter } from "../host/sub2api/index.js";
import { isHostError } from "../host/sub2api/index.js";
import type { ResourceRow } from "../store/resources.js";
import { mapLimit } from "../util/concurrency.js";

/** One account's test of this run, by host account id (the health policy counts them). */
export type TestOutcomes = Map<number, { success: boolean; error?: string }>;

/** Re-tests the accounts still on the host; a failing one is a finding. */
export async function retest(
  adapter: HostAdapter,
  def: ProviderDefinition,
  accounts: ResourceRow[],
  concurrency: number,
  outcomes: TestOutcomes,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const failing = (r: ResourceRow, message: string) =>
    findings.push({
      kind: "account_failing",
      resource_type: "account",
      name: r.name,
      host_resource_id: r.hostResourceId,
      message,
    });
  await mapLimit(accounts, concurrency, async (r) => {
    try {
      const t = await adapter.testAccount(r.hostResourceId as number, def.smoke_test_model);
      outcomes.set(r.hostResourceId as number, {
        success: t.success,
        ...(t.error ? { error: t.error } : {}),
      });
      if (!t.success) failing(r, `account ${r.name} (#${r.hostResourceId}) fails its test: ${t.error}`);
    } catch (err) {
      failing(r, `account ${r.name} could not be tested: ${isHostError(err) ? err.message : String(err)}`);
    }
  });
  return findings;
}
