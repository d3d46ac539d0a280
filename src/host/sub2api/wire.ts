import { HostError } from "./errors.js";
import { isRecord } from "./json.js";

/**
 * Reading sub2api's wire objects defensively: unknown keys are ignored, a missing optional key
 * gets its Go zero value (ent JSON is omitempty), and a wrong type is a `parse` HostError that
 * names the field, so "a response of the wrong shape" is one clear failure.
 */
export class Wire {
  constructor(
    readonly operation: string,
    readonly value: Record<string, unknown>,
    readonly path = "data",
  ) {}

  static of(operation: string, value: unknown, path = "data"): Wire {
    if (!isRecord(value)) throw shapeError(operation, path, "an object", value);
    return new Wire(operation, value, path);
  }

  num(key: string): number {
    const v = this.value[key];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw shapeError(this.operation, `${this.path}.${key}`, "a number", v);
    return v;
  }

  optNum(key: string, fallback: number): number {
    const v = this.value[key];
    return v === undefined || v === null ? fallback : this.num(key);
  }

  nullableNum(key: string): number | null {
    const v = this.value[key];
    return v === undefined || v === null ? null : this.num(key);
  }

  str(key: string, fallback?: string): string {
    const v = this.value[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "string") throw shapeError(this.operation, `${this.path}.${key}`, "a string", v);
    return v;
  }

  optStr(key: string): string | undefined {
    const v = this.value[key];
    return v === undefined || v === null ? undefined : this.str(key);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.value[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") throw shapeError(this.operation, `${this.path}.${key}`, "a boolean", v);
    return v;
  }

  numArray(key: string): number[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) {
      throw shapeError(this.operation, `${this.path}.${key}`, "an array of numbers", v);
    }
    return v as number[];
  }

  array(key: string): unknown[] {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw shapeError(this.operation, `${this.path}.${key}`, "an array", v);
    return v;
  }

  record(key: string): Record<string, unknown> {
    const v = this.value[key];
    if (v === undefined || v === null) return {};
    if (!isRecord(v)) throw shapeError(this.operation, `${this.path}.${key}`, "an object", v);
    return v;
  }

  child(key: string): Wire {
    return Wire.of(this.operation, this.value[key], `${this.path}.${key}`);
  }
}

export function asArray(operation: string, value: unknown, path = "data"): unknown[] {
  if (!Array.isArray(value)) throw shapeError(operation, path, "an array", value);
  return value;
}

export function shapeError(operation: string, path: string, expected: string, got: unknown): HostError {
  const kind = got === null ? "null" : Array.isArray(got) ? "an array" : typeof got;
  return new HostError({
    kind: "parse",
    operation,
    message: `${operation}: response of the wrong shape: ${path} should be ${expected}, got ${kind}`,
  });
}

export function stringMap(value: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}
