import { randomUUID } from "node:crypto";
import type { HostClient } from "./client.js";
import { isHostError } from "./errors.js";
import { listAll } from "./paginate.js";
import type { CreateUserInput, HostUser, LoginOutcome, UserApiKey, UserSession } from "./types.js";
import { Wire } from "./wire.js";

function toUser(operation: string, value: unknown): HostUser {
  const w = Wire.of(operation, value);
  return {
    id: w.num("id"),
    email: w.str("email"),
    username: w.str("username", ""),
    role: w.str("role", "user"),
    status: w.str("status", "active"),
    balance: w.optNum("balance", 0),
    allowedGroups: w.numArray("allowed_groups"),
  };
}

function toUserKey(operation: string, value: unknown): UserApiKey {
  const w = Wire.of(operation, value);
  const group = w.value.group_id;
  return {
    id: w.num("id"),
    name: w.str("name", ""),
    key: w.str("key"),
    groupId: typeof group === "number" ? group : null,
    status: w.str("status", "active"),
  };
}

/** `search` is fuzzy on the host; the email is compared exactly here. */
export async function findUserByEmail(
  client: HostClient,
  pageSize: number,
  email: string,
): Promise<HostUser | undefined> {
  const users = await listAll(
    client,
    { operation: "users.list", path: "/api/v1/admin/users", query: { search: email } },
    pageSize,
    (item) => toUser("users.list", item),
  );
  return users.find((u) => u.email.toLowerCase() === email.toLowerCase());
}

export async function createUser(client: HostClient, input: CreateUserInput): Promise<HostUser> {
  const data = await client.envelope({
    operation: "users.create",
    method: "POST",
    path: "/api/v1/admin/users",
    retry: "write",
    body: { email: input.email, password: input.password, username: input.username, notes: input.notes },
  });
  return toUser("users.create", data);
}

export async function setUserBalance(
  client: HostClient,
  userId: number,
  balance: number,
  idempotencyKey: string,
) {
  const data = await client.envelope({
    operation: "users.balance",
    method: "POST",
    path: `/api/v1/admin/users/${userId}/balance`,
    retry: "idempotent-write",
    idempotencyKey,
    body: { balance, operation: "set", notes: "relay probe user top-up" },
  });
  return toUser("users.balance", data);
}

/** sub2api's login rate-limit window (`auth-login`, 20 per minute per IP). */
export const LOGIN_WINDOW_MS = 60_000;

/** Login through the user API. Captcha, backend mode and 2FA are reported as `blocked`, never bypassed. */
export async function login(client: HostClient, email: string, password: string): Promise<LoginOutcome> {
  let data: unknown;
  try {
    data = await client.envelope({
      operation: "auth.login",
      method: "POST",
      path: "/api/v1/auth/login",
      auth: { type: "none" },
      retry: "write",
      body: { email, password },
      // sub2api limits logins to 20 a minute per IP, fail-close, and answers 429 with the rest of
      // the window as Retry-After (routes/auth.go:38, middleware/rate_limiter.go:100-107,164-181
      // @67380eafd): up to 60 s, longer than relay waits for other calls; before 0.1.166
      // (fead4c7ec) with no Retry-After at all (rate_limiter.go:114-117,131-136@9a2f11b4e). A flow
      // that logs its probe user in many times within a minute (import, reconcile, rollback)
      // waits the window out.
      rateLimitWindowMs: LOGIN_WINDOW_MS,
    });
  } catch (err) {
    if (
      isHostError(err) &&
      err.kind === "http" &&
      err.status !== undefined &&
      err.status < 500 &&
      err.status !== 429
    ) {
      return { kind: "blocked", code: err.machineCode, message: err.message };
    }
    throw err;
  }
  const w = Wire.of("auth.login", data);
  if (w.bool("requires_2fa", false)) {
    return {
      kind: "blocked",
      code: "REQUIRES_2FA",
      message: "the probe user has two-factor authentication enabled",
    };
  }
  const user = w.value.user;
  const userId = typeof user === "object" && user !== null ? (user as { id?: unknown }).id : undefined;
  return {
    kind: "ok",
    session: { accessToken: w.str("access_token"), userId: typeof userId === "number" ? userId : undefined },
  };
}

export function listUserKeys(
  client: HostClient,
  pageSize: number,
  session: UserSession,
): Promise<UserApiKey[]> {
  return listAll(
    client,
    { operation: "keys.list", path: "/api/v1/keys", auth: { type: "bearer", token: session.accessToken } },
    pageSize,
    (item) => toUserKey("keys.list", item),
  );
}

/**
 * `POST /api/v1/keys` runs through the idempotency coordinator with `RequireKey: true`
 * (`handler/api_key_handler.go:220`, `handler/idempotency_helper.go:47@67380eafd`): keyless, it is
 * refused 400 IDEMPOTENCY_KEY_REQUIRED where `observe_only` is false; with a key per create, a
 * retry after a lost answer is replayed instead of making a second key.
 */
export async function createUserKey(
  client: HostClient,
  session: UserSession,
  input: { name: string; groupId: number },
  idempotencyKey = `relay-key-${randomUUID()}`,
) {
  const data = await client.envelope({
    operation: "keys.create",
    method: "POST",
    path: "/api/v1/keys",
    auth: { type: "bearer", token: session.accessToken },
    idempotencyKey,
    retry: "idempotent-write",
    body: { name: input.name, group_id: input.groupId },
  });
  return toUserKey("keys.create", data);
}

/** `GET /admin/users/:id`; undefined when the host has no such (live) user. */
export async function getUser(client: HostClient, id: number): Promise<HostUser | undefined> {
  try {
    const data = await client.envelope({
      operation: "users.get",
      method: "GET",
      path: `/api/v1/admin/users/${id}`,
      retry: "read",
    });
    return toUser("users.get", data);
  } catch (err) {
    if (isHostError(err) && err.status === 404 && !err.routeMissing) return undefined;
    throw err;
  }
}

/** `PUT /admin/users/:id {password}`: the admin sets a user's password (min 6). Idempotent. */
export async function resetUserPassword(client: HostClient, id: number, password: string): Promise<HostUser> {
  const data = await client.envelope({
    operation: "users.update",
    method: "PUT",
    path: `/api/v1/admin/users/${id}`,
    retry: "read", // setting the same password again changes nothing
    body: { password },
  });
  return toUser("users.update", data);
}

/**
 * `DELETE /admin/users/:id`: sub2api soft-deletes the user (`deleted_at`; the email index is
 * partial, `WHERE deleted_at IS NULL`, from migration 016) and, from 0.1.134 (705fe7d88), its API
 * keys with it in one transaction (`service/admin_user.go:351-394,422-440`,
 * `repository/user_repo.go:451-517`, `repository/api_key_repo.go:375-420` @67380eafd); its
 * subscriptions are left as they are. An admin is refused (a plain error: 500 "internal error",
 * admin_user.go:357-359). 404 USER_NOT_FOUND (a user already deleted) is "already gone", so a
 * removal whose answer was lost can be run again.
 */
export async function deleteUser(client: HostClient, id: number): Promise<"deleted" | "already_gone"> {
  try {
    await client.envelope({
      operation: "users.delete",
      method: "DELETE",
      path: `/api/v1/admin/users/${id}`,
      retry: "read", // a second delete of the same user is a 404: safe to repeat
    });
    return "deleted";
  } catch (err) {
    if (isHostError(err) && err.status === 404 && !err.routeMissing) return "already_gone";
    throw err;
  }
}

/** `DELETE /api/v1/keys/:id` as the key's owner; a key already gone is fine. */
export async function deleteUserKey(
  client: HostClient,
  session: UserSession,
  id: number,
): Promise<"deleted" | "already_gone"> {
  try {
    await client.envelope({
      operation: "keys.delete",
      method: "DELETE",
      path: `/api/v1/keys/${id}`,
      auth: { type: "bearer", token: session.accessToken },
      retry: "read",
    });
    return "deleted";
  } catch (err) {
    if (isHostError(err) && err.status === 404 && !err.routeMissing) return "already_gone";
    throw err;
  }
}
