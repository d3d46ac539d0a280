import { spawnSync } from "node:child_process";

export interface Family {
  name: string;
  type: string;
  help: boolean;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * A structural check of Prometheus text exposition, run always (promtool may be absent): every
 * sample belongs to a family declared with HELP and TYPE before it, values parse, no series
 * repeats, counters end in _total and nothing else does. Returns the families, or throws.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const family = (sample: string) => {
    for (const suffix of ["_bucket", "_sum", "_count", ""]) {
      const base = suffix ? sample.slice(0, -suffix.length) : sample;
      if (sample.endsWith(suffix) && families.has(base)) return families.get(base) as Family;
    }
    throw new Error(`sample ${sample} has no # TYPE before it`);
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const help = /^# HELP (\S+) \S/.exec(line);
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help?.[1]) {
      families.set(help[1], { name: help[1], type: "", help: true, samples: [] });
      continue;
    }
    if (type?.[1] && type[2]) {
      const f = families.get(type[1]);
      if (!f) throw new Error(`# TYPE ${type[1]} without # HELP`);
      f.type = type[2];
      continue;
    }
    if (line.startsWith("#")) throw new Error(`unexpected comment: ${line}`);
    const m = SAMPLE.exec(line);
    if (!m?.[1] || m[3] === undefined) throw new Error(`not a sample: ${line}`);
    const value = Number(m[3]);
    if (Number.isNaN(value) && m[3] !== "NaN") throw new Error(`bad value: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? "").matchAll(LABEL)].map((l) => [l[1], l[2]]));
    const key = `${m[1]}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate series: ${line}`);
    seen.add(key);
    family(m[1]).samples.push({ name: m[1], labels: labels as Record<string, string>, value });
  }
  for (const f of families.values()) {
    if (!f.type) throw new Error(`${f.name} has no # TYPE`);
    if ((f.type === "counter") !== f.name.endsWith("_total"))
      throw new Error(`${f.name}: only counters end in _total (type ${f.type})`);
  }
  return families;
}

/** `promtool check metrics` on the text, when promtool is installed; null when it is not. */
export function promtoolCheck(text: string): { ok: boolean; output: string } | null {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") return null;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
