import OpenAI from "openai";
import { admin, type LiveHost } from "./host-admin.js";

/** An ordinary user of the real host, made by hand through its admin API as an operator would. */
export interface LiveUser {
  id: number;
  email: string;
  password: string;
}

export async function makeUser(live: LiveHost, label: string): Promise<LiveUser> {
  const email = `live-${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}@example.com`;
  const password = "live-user-password-1";
  const made = await admin<{ id: number }>(live, "POST", "/users", {
    email,
    password,
    username: email.split("@")[0],
  });
  return { id: made.id, email, password };
}

/**
 * The user logs in to the host and makes an API key of its own for `groupId` (`POST /api/v1/keys`,
 * with an Idempotency-Key: a host with `idempotency.observe_only: false` requires one), then an
 * official `openai` client on the host's gateway with that key.
 */
export async function userClient(live: LiveHost, user: LiveUser, groupId: number): Promise<OpenAI> {
  const login = await loginWaitingOutLimiter(live, user);
  const session = (await login.json()) as { data?: { access_token?: string } };
  if (login.status !== 200 || !session.data?.access_token)
    throw new Error(`user login answered ${login.status}: ${JSON.stringify(session).slice(0, 300)}`);
  const keyRes = await fetch(`${live.baseUrl}/api/v1/keys`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${session.data.access_token}`,
      "Idempotency-Key": `live-${user.id}-${Date.now()}`,
    },
    body: JSON.stringify({ name: `live-user-key-${groupId}`, group_id: groupId }),
  });
  const made = (await keyRes.json()) as { data?: { key?: string } };
  if (keyRes.status !== 200 || !made.data?.key)
    throw new Error(`user key create answered ${keyRes.status}: ${JSON.stringify(made).slice(0, 300)}`);
  return new OpenAI({ apiKey: made.data.key, baseURL: `${live.baseUrl}/v1`, maxRetries: 0 });
}

/**
 * `POST /api/v1/auth/login`, waiting out the host's login limiter as it asks: 20 logins a minute
 * per IP, 429 with the rest of the window as Retry-After (routes/auth.go:38,
 * middleware/rate_limiter.go:164-181@67380eafd; none before 0.1.166). relay's own logins in the
 * same run count too.
 */
async function loginWaitingOutLimiter(live: LiveHost, user: LiveUser): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${live.baseUrl}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    // Builds before 0.1.166 name no Retry-After: the whole one-minute window, then.
    const wait = Number(res.headers.get("retry-after") ?? 61);
    if (res.status !== 429 || attempt >= 3 || !(wait > 0 && wait <= 61)) return res;
    await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

/** A key of the shape the shipped pack expects for a provider (never a real key). */
export function liveKey(provider: string): string {
  const alnum = (n: number) =>
    Array.from(
      { length: n },
      () => "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[Math.floor(Math.random() * 57)],
    ).join("");
  if (provider === "deepseek") return `sk-${alnum(32)}`;
  return `sk-${alnum(48)}`;
}
