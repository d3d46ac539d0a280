/**
 * The board's only way out: same-origin GETs to relay's own API with the bearer token. The token
 * lives in sessionStorage (this tab only, gone when it closes) and travels only in the header.
 */
const TOKEN_KEY = "relay.board.token";

export const token = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const signIn = (value: string): void => sessionStorage.setItem(TOKEN_KEY, value);
export const signOut = (): void => sessionStorage.removeItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One path segment, escaped: ids come from the API and the hash, never trusted as paths. */
export const seg = (s: string): string => encodeURIComponent(s);

export async function get<T>(path: string, bearer = token()): Promise<T> {
  const res = await fetch(path, {
    headers: { accept: "application/json", authorization: `Bearer ${bearer ?? ""}` },
    cache: "no-store",
    credentials: "omit",
    redirect: "error",
  });
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: string; message?: string; hint?: string };
  } | null;
  if (!res.ok) {
    const e = body?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText);
  }
  return body as T;
}

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Every item of a paginated list (bounded: a board is not an export). */
export async function all<T>(path: string, maxPages = 20): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page: Page<T> = await get<Page<T>>(
      `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}
