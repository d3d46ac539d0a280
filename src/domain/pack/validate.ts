import type { ErrorObject } from "ajv";
import semver from "semver";
import { CHECKSUMS_FILE, renderChecksums, sha256, verifyChecksums } from "./checksums.js";
import { type Add, familyChecks, lifecycleChecks, retirementWarnings } from "./lifecycle.js";
import { checkKeyPatterns, type PatternCheckOptions } from "./pattern.js";
import { type PackManifest, type ProviderDefinition, validateManifest, validateProvider } from "./schema.js";
import { triageChecks } from "./triage-rules.js";
import { parseRange } from "./version-range.js";

/** A pack as read from a directory or a zip, before anything in it is trusted. */
export interface PackFiles {
  /** Paths relative to the pack root, `/`-separated. */
  files: Map<string, Buffer>;
  /** Paths that appeared more than once (a zip can hold the same name twice). */
  duplicates: string[];
  source: string;
}

export interface PackIssue {
  severity: "error" | "warning";
  code: string;
  file: string | null;
  /** JSON pointer into the file, when the problem is inside one. */
  pointer: string | null;
  message: string;
}

export interface PackReport {
  ok: boolean;
  pack_id: string | null;
  version: string | null;
  manifest: PackManifest | undefined;
  providers: ProviderDefinition[];
  content_hash: string;
  issues: PackIssue[];
}

export interface ValidateOptions {
  /** provider_id → pack_id of providers already installed, to refuse taking one over. */
  installedProviders?: Map<string, string>;
  /**
   * A provider's base_url may be plain http on a loopback address (a test stand's fake upstream,
   * RELAY_ALLOW_LOOPBACK_UPSTREAMS); never any other http URL.
   */
  allowLoopbackHttp?: boolean;
  /** Called before key patterns go to the ReDoS analysis (seconds of work), with their number. */
  onPatternAnalysis?: PatternCheckOptions["onAnalysis"];
  /** The moment model retirement dates are judged against (UTC day); without it they are not. */
  now?: Date;
}

const ALLOWED_TOP = new Set(["pack.json", CHECKSUMS_FILE, "README.md", "LICENSE", "CHANGELOG.md"]);
const PROVIDER_FILE = /^providers\/([^/]+)\.json$/;

/**
 * Validates a loaded pack and reports every problem in one pass, each with a code, a file and a
 * JSON pointer. Never throws for pack content; `ok` is false when any error was found. Async for
 * the key patterns only: one that is not a plain sequence is analysed off the event loop.
 */
export async function validatePack(pack: PackFiles, options: ValidateOptions = {}): Promise<PackReport> {
  const issues: PackIssue[] = [];
  const error: Add = (code, file, message, pointer = null) =>
    issues.push({ severity: "error", code, file, pointer, message });
  const warn: Add = (code, file, message, pointer = null) =>
    issues.push({ severity: "warning", code, file, pointer, message });
  layoutChecks(pack, error, warn);
  const { raw, valid } = manifestChecks(pack.files, error);
  const patterns: KeyPattern[] = [];
  const providers = providerChecks(
    pack.files,
    valid?.pack_id ?? raw?.pack_id,
    options,
    patterns,
    error,
    warn,
  );
  await keyPatternVerdicts(patterns, options, error);
  for (const problem of verifyChecksums(pack.files)) error(problem.code, problem.file, problem.message);
  return {
    ok: !issues.some((i) => i.severity === "error"),
    pack_id: valid?.pack_id ?? null,
    version: valid?.version ?? null,
    manifest: valid,
    providers,
    content_hash: sha256(renderChecksums(pack.files)),
    issues,
  };
}

/** Only the files of the pack layout, each once. */
function layoutChecks(pack: PackFiles, error: Add, warn: Add) {
  for (const path of pack.files.keys()) {
    if (!ALLOWED_TOP.has(path) && !PROVIDER_FILE.test(path)) {
      error(
        "UNEXPECTED_FILE",
        path,
        `${path} is not part of the pack layout (pack.json, providers/*.json, checksums.txt, README.md)`,
      );
    }
  }
  for (const dup of pack.duplicates) {
    error(
      PROVIDER_FILE.test(dup) ? "DUPLICATE_PROVIDER_FILE" : "DUPLICATE_ENTRY",
      dup,
      `${dup} appears more than once in the archive`,
    );
  }
  if (!pack.files.has("README.md"))
    warn("README_MISSING", null, "no README.md: describe the providers and how to get keys");
}

/** pack.json: present, valid against its schema, a semantic version and a parsable host range. */
function manifestChecks(
  files: Map<string, Buffer>,
  error: Add,
): { raw: Partial<PackManifest> | undefined; valid: PackManifest | undefined } {
  if (!files.has("pack.json")) {
    error("PACK_JSON_MISSING", "pack.json", "pack.json is missing at the pack root");
    return { raw: undefined, valid: undefined };
  }
  const manifest = parseJson(files, "pack.json", error);
  if (manifest === undefined) return { raw: undefined, valid: undefined };
  const checked = validateManifest(manifest);
  if (!checked.ok) schemaIssues(checked.errors, "pack.json", error);
  const m = manifest as Partial<PackManifest>;
  if (typeof m.version === "string" && !semver.valid(m.version)) {
    error(
      "VERSION_INVALID",
      "pack.json",
      `version "${m.version}" is not semantic versioning (e.g. 1.2.0)`,
      "/version",
    );
  }
  const range = m.host?.version_range;
  const parsed = typeof range === "string" ? parseRange(range) : undefined;
  if (typeof parsed === "string") {
    error(
      "VERSION_RANGE_INVALID",
      "pack.json",
      `host.version_range "${range}": ${parsed}`,
      "/host/version_range",
    );
  }
  return { raw: m, valid: checked.ok ? checked.value : undefined };
}

/** providers/*.json: at least one, names unique (case too), ids matching file names and not taken. */
function providerChecks(
  files: Map<string, Buffer>,
  packId: string | undefined,
  options: ValidateOptions,
  patterns: KeyPattern[],
  error: Add,
  warn: Add,
): ProviderDefinition[] {
  // By provider id, so a family's default comes before its region variants (kimi, kimi-intl).
  const stem = (p: string) => p.slice(0, -".json".length);
  const providerFiles = [...files.keys()]
    .filter((p) => PROVIDER_FILE.test(p))
    .sort((a, b) => (stem(a) < stem(b) ? -1 : stem(a) > stem(b) ? 1 : 0));
  if (providerFiles.length === 0) error("NO_PROVIDERS", "providers/", "the pack has no providers/*.json");
  const lowerNames = new Map<string, string>();
  for (const path of providerFiles) {
    const other = lowerNames.get(path.toLowerCase());
    if (other) error("DUPLICATE_PROVIDER_FILE", path, `${path} and ${other} differ only in case`);
    lowerNames.set(path.toLowerCase(), path);
  }
  const providers: ProviderDefinition[] = [];
  const parsed: { path: string; p: Partial<ProviderDefinition> }[] = [];
  const seenIds = new Map<string, string>();
  for (const path of providerFiles) {
    const value = parseJson(files, path, error);
    if (value === undefined) continue;
    const checked = validateProvider(value);
    if (!checked.ok) schemaIssues(checked.errors, path, error);
    const p = value as Partial<ProviderDefinition>;
    if (typeof p.provider_id === "string")
      identityChecks(p.provider_id, path, packId, seenIds, options, error);
    semanticProviderChecks(p, path, error, warn, options.allowLoopbackHttp === true);
    lifecycleChecks(p, path, error);
    triageChecks(p, path, error);
    if (options.now) retirementWarnings(p, path, options.now.toISOString().slice(0, 10), warn);
    parsed.push({ path, p });
    if (typeof p.key_pattern === "string" && validRegExp(p.key_pattern, path, error))
      patterns.push({ pattern: p.key_pattern, path });
    if (checked.ok) providers.push(checked.value);
  }
  familyChecks(parsed, error, warn);
  return providers;
}

function identityChecks(
  id: string,
  path: string,
  packId: string | undefined,
  seenIds: Map<string, string>,
  options: ValidateOptions,
  error: Add,
) {
  const fileId = PROVIDER_FILE.exec(path)?.[1];
  if (id !== fileId) {
    error(
      "PROVIDER_FILE_NAME_MISMATCH",
      path,
      `provider_id "${id}" must match its file name (${fileId}.json)`,
      "/provider_id",
    );
  }
  const prev = seenIds.get(id);
  if (prev)
    error("DUPLICATE_PROVIDER_ID", path, `provider_id "${id}" is also defined in ${prev}`, "/provider_id");
  seenIds.set(id, path);
  const owner = options.installedProviders?.get(id);
  if (owner && owner !== packId) {
    error(
      "PROVIDER_INSTALLED_FROM_OTHER_PACK",
      path,
      `provider "${id}" is already installed from pack "${owner}"`,
      "/provider_id",
    );
  }
}

interface KeyPattern {
  pattern: string;
  path: string;
}

function validRegExp(pattern: string, path: string, error: Add): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch (e) {
    error(
      "KEY_PATTERN_INVALID",
      path,
      `key_pattern is not a valid regular expression: ${(e as Error).message}`,
      "/key_pattern",
    );
    return false;
  }
}

/** The pack's key patterns judged together, in file order: the analysis budget is per pack. */
async function keyPatternVerdicts(patterns: KeyPattern[], options: ValidateOptions, error: Add) {
  const verdicts = await checkKeyPatterns(
    patterns.map((p) => p.pattern),
    options.onPatternAnalysis ? { onAnalysis: options.onPatternAnalysis } : {},
  );
  for (const { pattern, path } of patterns) {
    const verdict = verdicts.get(pattern);
    if (verdict && !verdict.safe)
      error("KEY_PATTERN_UNSAFE", path, `key_pattern is refused: ${verdict.reason}`, "/key_pattern");
  }
}

function semanticProviderChecks(
  p: Partial<ProviderDefinition>,
  path: string,
  error: Add,
  warn: Add,
  allowLoopbackHttp: boolean,
) {
  if (typeof p.base_url === "string") {
    let url: URL | undefined;
    try {
      url = new URL(p.base_url);
    } catch {
      error("BASE_URL_INVALID", path, `base_url "${p.base_url}" is not a URL`, "/base_url");
    }
    const loopbackHttp =
      allowLoopbackHttp &&
      url?.protocol === "http:" &&
      ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url && url.protocol !== "https:" && !loopbackHttp)
      error("BASE_URL_NOT_HTTPS", path, `base_url must use https, got "${url.protocol}"`, "/base_url");
    if (url && (url.username || url.password || url.search || url.hash)) {
      error(
        "BASE_URL_INVALID",
        path,
        "base_url must not contain credentials, a query or a fragment",
        "/base_url",
      );
    }
  }
  const models = Array.isArray(p.default_models) ? p.default_models : undefined;
  if (models && models.length === 0)
    error("DEFAULT_MODELS_EMPTY", path, "default_models must list at least one model", "/default_models");
  if (
    models &&
    models.length > 0 &&
    typeof p.smoke_test_model === "string" &&
    !models.includes(p.smoke_test_model)
  ) {
    error(
      "SMOKE_MODEL_NOT_IN_DEFAULTS",
      path,
      `smoke_test_model "${p.smoke_test_model}" is not in default_models`,
      "/smoke_test_model",
    );
  }
  if (p.key_pattern === undefined) {
    warn(
      "KEY_PATTERN_MISSING",
      path,
      "no key_pattern: malformed keys cannot be flagged in preview",
      "/key_pattern",
    );
  }
  if (p.pricing === undefined || p.pricing.length === 0) {
    warn(
      "PRICING_MISSING",
      path,
      "no pricing: hosts with channels will bill with their global price table",
      "/pricing",
    );
  } else if (models) {
    p.pricing.forEach((entry, i) => {
      for (const m of entry.models ?? []) {
        if (!models.includes(m) && !m.endsWith("*"))
          warn(
            "PRICING_UNKNOWN_MODEL",
            path,
            `pricing names "${m}", which is not in default_models`,
            `/pricing/${i}/models`,
          );
      }
    });
  }
  if (p.platforms && p.platforms.fallback !== "openai") {
    warn(
      "FALLBACK_NOT_OPENAI",
      path,
      `platforms.fallback is "${p.platforms.fallback}"; hosts without CN platforms need "openai"`,
      "/platforms/fallback",
    );
  }
}

function parseJson(files: Map<string, Buffer>, path: string, error: Add): unknown {
  const data = files.get(path);
  if (!data) return undefined;
  try {
    return JSON.parse(data.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (e) {
    error("JSON_INVALID", path, `${path} is not valid JSON: ${(e as Error).message}`);
    return undefined;
  }
}

function schemaIssues(errors: ErrorObject[], file: string, error: Add) {
  for (const e of errors) {
    const pointer = e.instancePath || "/";
    let message = e.message ?? "invalid";
    if (e.keyword === "additionalProperties")
      message = `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === "required")
      message = `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
    error("SCHEMA_INVALID", file, `${pointer}: ${message}`, pointer);
  }
}
