import { randomUUID } from "node:crypto";
import type { HostClient } from "./client.js";
import { isHostError } from "./errors.js";
import { listAll } from "./paginate.js";
import type {
  AssignOutcome,
  AssignSubscriptionInput,
  BulkAssignInput,
  BulkAssignResult,
  HostSubscription,
  ListQuery,
} from "./types.js";
import { Wire } from "./wire.js";

const BASE = "/api/v1/admin/subscriptions";

function toSubscription(operation: string, value: unknown): HostSubscription {
  const w = Wire.of(operation, value);
  return {
    id: w.num("id"),
    userId: w.num("user_id"),
    groupId: w.optNum("group_id", 0),
    status: w.str("status", "active"),
    startsAt: w.optStr("starts_at"),
    expiresAt: w.optStr("expires_at"),
    notes: w.str("notes", ""),
  };
}

/**
 * A revoked subscription is a soft-deleted row (subscription_service.go:600-616@2bc139ab5) that the
 * admin list without a status filter still shows, as status `revoked` with `revoked_at`
 * (user_subscription_repo.go:241,278-288, dto/mappers.go:817@2bc139ab5; the same at 67380eafd and
 * 0.1.150); older builds deleted the row. It grants nothing, and re-assigning makes a new row.
 */
function isRevoked(value: unknown, s: HostSubscription): boolean {
  if (s.status === "revoked") return true;
  const at = (value as { revoked_at?: unknown } | null)?.revoked_at;
  return typeof at === "string" && at !== "";
}

/**
 * The user's/group's subscriptions as relay counts them: a revoked row is left out (it is not
 * "already subscribed", not drift, not adoptable, and does not block a re-assign) unless the
 * caller asks for `status: "revoked"`.
 */
export async function listSubscriptions(client: HostClient, pageSize: number, query: ListQuery = {}) {
  const wantRevoked = query.status === "revoked";
  const rows = await listAll(
    client,
    {
      operation: "subscriptions.list",
      path: BASE,
      query: { user_id: query.userId, group_id: query.groupId, status: query.status },
    },
    pageSize,
    (item) => {
      const s = toSubscription("subscriptions.list", item);
      return { s, revoked: isRevoked(item, s) };
    },
  );
  return rows.filter((r) => r.revoked === wantRevoked).map((r) => r.s);
}

export async function assignSubscription(
  client: HostClient,
  pageSize: number,
  input: AssignSubscriptionInput,
): Promise<AssignOutcome> {
  try {
    const data = await client.envelope({
      operation: "subscriptions.assign",
      method: "POST",
      path: `${BASE}/assign`,
      // Newer builds answer an identical re-assign with the existing row, so a retry is safe there;
      // on Dec 2025 builds a retry after success surfaces as SUBSCRIPTION_ALREADY_EXISTS.
      retry: "read",
      body: {
        user_id: input.userId,
        group_id: input.groupId,
        validity_days: input.validityDays,
        notes: input.notes,
      },
    });
    return { kind: "assigned", subscription: toSubscription("subscriptions.assign", data) };
  } catch (err) {
    if (isHostError(err) && err.status === 409) {
      // A retry whose first attempt the host performed (its answer lost) meets the subscription it
      // made: the same notes mark it as this request's own, so it is assigned, not a conflict.
      const mine = (
        await listSubscriptions(client, pageSize, { userId: input.userId, groupId: input.groupId })
      ).find((x) => x.status === "active" && input.notes !== undefined && x.notes === input.notes);
      if (mine) return { kind: "assigned", subscription: await atLeast(client, mine, input.validityDays) };
      const reason =
        typeof err.metadata?.conflict_reason === "string" ? err.metadata.conflict_reason : err.message;
      return { kind: "conflict", code: err.machineCode, reason };
    }
    throw err;
  }
}

const DAY_MS = 86_400_000;

/**
 * relay's own subscription, made shorter than now requested (validity_days_mismatch on newer
 * builds), is lengthened with `POST /:id/extend {days}` rather than left short or re-created.
 */
async function atLeast(client: HostClient, s: HostSubscription, days: number): Promise<HostSubscription> {
  if (!s.startsAt || !s.expiresAt) return s;
  const held = Math.round((Date.parse(s.expiresAt) - Date.parse(s.startsAt)) / DAY_MS);
  if (!(held < days)) return s;
  return extendSubscription(client, s.id, days - held);
}

/**
 * `POST /admin/subscriptions/:id/extend {days}` (subscription_handler.go:183-205 @d3e73f1). From
 * 0.1.104 the handler runs through the idempotency coordinator with `RequireKey: true`
 * (`subscription_handler.go:204-217`, `admin/idempotency_helper.go:40-48@67380eafd`): a host with
 * `idempotency.observe_only: false` refuses a keyless extend 400 IDEMPOTENCY_KEY_REQUIRED, and with
 * the key a retry is replayed rather than adding the days twice. One key per extend (not per
 * subscription and days): a later extend by the same days must extend again, not be replayed.
 */
export async function extendSubscription(
  client: HostClient,
  id: number,
  days: number,
  idempotencyKey = `relay-extend-${randomUUID()}`,
): Promise<HostSubscription> {
  const data = await client.envelope({
    operation: "subscriptions.extend",
    method: "POST",
    path: `${BASE}/${id}/extend`,
    body: { days },
    idempotencyKey,
    // Retried only where the host honours the key; without it a retry could add the days twice.
    retry: "idempotent-write",
  });
  return toSubscription("subscriptions.extend", data);
}

/**
 * `POST /admin/subscriptions/bulk-assign {user_ids, group_id, validity_days, notes}` assigns user by
 * user and collects refusals as `errors: ["user <id>: <message>"]`, answering 200 either way
 * (subscription_service.go BulkAssignSubscription @d3e73f1). It carries no Idempotency-Key, so it
 * is never retried blindly: a lost answer is the caller's to settle, user by user.
 */
export async function bulkAssignSubscriptions(
  client: HostClient,
  input: BulkAssignInput,
): Promise<BulkAssignResult> {
  const data = await client.envelope({
    operation: "subscriptions.bulk_assign",
    method: "POST",
    path: `${BASE}/bulk-assign`,
    retry: "write",
    body: {
      user_ids: input.userIds,
      group_id: input.groupId,
      validity_days: input.validityDays,
      notes: input.notes,
    },
  });
  const w = Wire.of("subscriptions.bulk_assign", data);
  const assigned = w
    .array("subscriptions")
    .map((x, i) => toSubscription(`subscriptions.bulk_assign.subscriptions[${i}]`, x));
  const failed = w
    .array("errors")
    .map((e) => (typeof e === "string" ? /^user (\d+): (.*)$/s.exec(e) : null))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ userId: Number(m[1]), reason: m[2] ?? "" }));
  return { assigned, failed };
}

/** DELETE revokes on every build (a soft, restorable revoke on newer ones; a hard delete on older). */
export async function revokeSubscription(
  client: HostClient,
  id: number,
): Promise<"revoked" | "already_gone"> {
  try {
    await client.envelope({
      operation: "subscriptions.revoke",
      method: "DELETE",
      path: `${BASE}/${id}`,
      retry: "read",
    });
    return "revoked";
  } catch (err) {
    if (isHostError(err) && err.status === 404 && !err.routeMissing) return "already_gone";
    throw err;
  }
}
