/** Reading JSON answers without trusting them. */
export function tryParseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether `text` holds more than `limit` JSON values, counted without parsing: one per value
 * separator (`,`) and one per object or array opened, outside strings. JSON.parse of a page is
 * what costs memory — 16 MiB of `[{},{},…]` becomes five million objects, hundreds of MB — so a
 * list page is counted first, and a page no real list of its size could hold is never parsed.
 */
export function exceedsJsonValues(text: string, limit: number): boolean {
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x2c || c === 0x7b || c === 0x5b) {
      count += 1;
      if (count > limit) return true;
    }
  }
  return false;
}
