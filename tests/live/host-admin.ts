/**
 * A bare admin client for the live suite: it reads and changes the real sub2api host directly,
 * through the host's own admin API, independently of relay's adapter. The suite uses it to act
 * "by hand" as an operator would and to judge the host from the host.
 */
export interface LiveHost {
  baseUrl: string;
  adminKey: string;
}

interface Envelope<T> {
  code: number;
  message?: string;
  data: T;
}

export class HostAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: host answered ${status}: ${body.slice(0, 300)}`);
  }
}

export async function admin<T>(
  host: LiveHost,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(`${host.baseUrl}/api/v1/admin${path}`, {
    method,
    headers: {
      "x-api-key": host.adminKey,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new HostAnswerError(res.status, text, `${method} ${path}`);
  const parsed = JSON.parse(text) as Envelope<T>;
  if (parsed.code !== 0) throw new HostAnswerError(res.status, text, `${method} ${path}`);
  return parsed.data;
}

/** Every item of a paginated admin list (the host's `pages` is trusted, as relay's adapter does). */
export async function listAll<T>(host: LiveHost, path: string): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let page = 1; page <= 200; page++) {
    const data = await admin<{ items: T[] | null; pages?: number } | T[]>(
      host,
      "GET",
      `${path}${sep}page=${page}&page_size=100`,
    );
    if (Array.isArray(data)) return data; // unpaginated lists (payment plans)
    out.push(...(data.items ?? []));
    if (!data.pages || page >= data.pages) return out;
  }
  return out;
}

export interface HostSnapshot {
  groups: { id: number; name: string; status?: string; rate_multiplier?: number }[];
  accounts: { id: number; name: string; status?: string; schedulable?: boolean }[];
  channels: { id: number; name: string; status?: string }[];
  plans: { id: number; name: string; group_id?: number }[];
  subscriptions: { id: number; user_id: number; group_id: number; status?: string }[];
}

/** What the host holds now, by listing it (plans and channels only where the build has them). */
export async function snapshot(host: LiveHost): Promise<HostSnapshot> {
  const optional = async <T>(path: string): Promise<T[]> => {
    try {
      return await listAll<T>(host, path);
    } catch (e) {
      if (e instanceof HostAnswerError && e.status === 404) return [];
      throw e;
    }
  };
  return {
    groups: await listAll(host, "/groups"),
    accounts: await listAll(host, "/accounts"),
    channels: await optional("/channels"),
    plans: await optional("/payment/plans"),
    subscriptions: await listAll(host, "/subscriptions"),
  };
}

/** What `after` holds that `before` did not, per kind: a live resource made in between. */
export function madeSince(before: HostSnapshot, after: HostSnapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const kind of ["groups", "accounts", "channels", "plans", "subscriptions"] as const) {
    const known = new Set(before[kind].map((r) => r.id));
    const made = (after[kind] as { id: number; name?: string; status?: string }[])
      .filter((r) => !known.has(r.id))
      // A revoked/expired subscription or a soft-deleted group is no longer live.
      .filter((r) => !["revoked", "expired", "deleted"].includes(String(r.status ?? "")))
      .map(
        (r) =>
          `${kind.slice(0, -1)} #${r.id}${r.name ? ` ${r.name}` : ""}${r.status ? ` (${r.status})` : ""}`,
      );
    if (made.length > 0) out[kind] = made;
  }
  return out;
}

/** Resources of `before` that changed or vanished by `after` (relay must not touch what it did not make). */
export function touched(before: HostSnapshot, after: HostSnapshot): string[] {
  const out: string[] = [];
  for (const kind of ["groups", "accounts", "channels", "plans", "subscriptions"] as const) {
    const now = new Map((after[kind] as { id: number }[]).map((r) => [r.id, JSON.stringify(r)]));
    for (const r of before[kind] as { id: number }[]) {
      const was = JSON.stringify(r);
      const is = now.get(r.id);
      if (is === undefined) out.push(`${kind} #${r.id} is gone`);
      else if (stable(is) !== stable(was)) out.push(`${kind} #${r.id} changed`);
    }
  }
  return out;
}

/** Drops fields the host itself moves (timestamps, usage counters) before comparing. */
function stable(json: string): string {
  const volatile = /(_at|_until|usage|count|last_|updated|current_|balance|today|cost)/i;
  return JSON.stringify(JSON.parse(json), (k, v) => (volatile.test(k) ? undefined : v));
}
