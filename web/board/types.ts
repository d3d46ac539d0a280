/**
 * The API answers the board reads, typed from the response schemas relay's routes answer with
 * (src/api/http/schemas/responses.ts, the same schemas docs/api/openapi.yaml is built from), so
 * the board cannot drift from the API. Imported type-only: erased from the bundle, nothing of
 * TypeBox or `src/` is shipped to the browser.
 */
import type { Body } from "../../src/api/http/schemas/responses";

export type Host = Body<"Host">;
export type ProviderListItem = Body<"ProviderList">["items"][number];
export type ProviderStatus = Body<"ProviderStatus">;
export type ProviderHostStatus = ProviderStatus["hosts"][number];
export type Finding = NonNullable<ProviderHostStatus["last_reconcile"]>["findings"][number];
export type AccessStatus = Body<"AccessStatus">;
export type BatchSummary = Body<"BatchSummaryList">["items"][number];
export type Batch = Body<"Batch">;
/**
 * A batch key's `result` is an open object in the schema (it grows with the import's steps); the
 * parts of it the board shows.
 */
export interface KeyResult {
  account_id?: number;
  /** What the provider's answer made the key (docs/import.md, key triage). */
  triage?: { class: string; reason: string; next_step: string };
}
/** GET /api/providers/{id}/policy?host_id= (the health policy; docs/operations.md "Health policy"). */
export type PolicyView = Body<"PolicyView">;
export type { HealthAxis, SyncAxis } from "../../src/domain/axes";
