/** What relay records of every host resource it creates or adopts (the saga's ledger). */
export type ResourceType =
  | "group"
  | "channel"
  | "plan"
  | "account"
  | "subscription"
  | "probe_user"
  | "probe_key";

/**
 * `create_pending`: the intent is recorded and the host call may or may not have happened;
 * `delete_pending`: a delete was sent; `gone`: looked for and not found; `failed`: the host refused.
 */
export type ResourceState =
  | "create_pending"
  | "created"
  | "reused"
  | "delete_pending"
  | "deleted"
  | "failed"
  | "gone";

/** States in which the resource may exist on the host. */
export const LIVE_STATES: readonly ResourceState[] = [
  "create_pending",
  "created",
  "reused",
  "delete_pending",
];

/** What happened to one key of a batch. */
export type ItemStatus = "pending" | "created" | "reused" | "tested" | "failed" | "skipped" | "rolled_back";
