/**
 * C0 and C1 control characters (ESC starts terminal escape sequences), DEL, and the Unicode
 * format characters that reorder or hide text (bidi overrides and isolates, zero-width marks).
 * Newlines and tabs are kept where a caller keeps lines.
 */
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's purpose
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const UNPRINTABLE_LINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's purpose
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * Text from a host, a pack or a file made safe for a terminal or a log line: control and
 * reordering characters removed, and (with `max`) clipped. `lines` keeps newlines and tabs.
 */
export function printable(text: string, options: { max?: number; lines?: boolean } = {}): string {
  const clean = text.replace(options.lines ? UNPRINTABLE : UNPRINTABLE_LINE, "");
  return options.max !== undefined && clean.length > options.max ? `${clean.slice(0, options.max)}…` : clean;
}
