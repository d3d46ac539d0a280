import { type Static, Type } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { SLUG_PATTERN } from "../ids.js";

/**
 * The pack format (design §4), defined once. The TypeScript types, the ajv validators and the
 * OpenAPI components all come from these schemas.
 */
const Id = Type.String({ pattern: SLUG_PATTERN });
const NonEmpty = Type.String({ minLength: 1, maxLength: 200 });
const Usd = Type.Union([Type.Number({ minimum: 0 }), Type.Null()]);
/** A calendar day, `YYYY-MM-DD` (validate.ts also refuses days that do not exist). */
const IsoDate = Type.String({ pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description: "ISO date, YYYY-MM-DD" });

export const PackManifestSchema = Type.Object(
  {
    schema_version: Type.Literal(1),
    pack_id: Id,
    name: NonEmpty,
    version: Type.String({ minLength: 1, maxLength: 64, description: "semver" }),
    description: Type.String({ maxLength: 2000 }),
    host: Type.Object(
      {
        app: Type.Literal("sub2api"),
        version_range: Type.String({ minLength: 1, maxLength: 200, description: "e.g. >=0.1.100 <0.3" }),
      },
      { additionalProperties: false },
    ),
    author: Type.Optional(Type.String({ maxLength: 200 })),
    homepage: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false, $id: "PackManifest" },
);
export type PackManifest = Static<typeof PackManifestSchema>;

export const ProviderPricingSchema = Type.Object(
  {
    models: Type.Array(NonEmpty, { minItems: 1, maxItems: 100 }),
    input_per_million: Type.Number({ minimum: 0 }),
    output_per_million: Type.Number({ minimum: 0 }),
    currency: Type.Optional(Type.Literal("USD")),
  },
  { additionalProperties: false },
);

/**
 * What is known of one model's retirement. Dated facts drive `relay pack lint`'s warnings; a
 * `replacement` (a model in the same provider's `default_models`) is what an old name moves to.
 */
export const ModelLifecycleSchema = Type.Object(
  {
    deprecated_at: Type.Optional(IsoDate),
    retired_at: Type.Optional(IsoDate),
    replacement: Type.Optional(NonEmpty),
    source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 500, description: "where the fact was read" }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ModelLifecycle = Static<typeof ModelLifecycleSchema>;

/** What a key can turn out to be, from its provider's answer (src/domain/key-triage.ts). */
export const KEY_CLASSES = [
  "ready",
  "revoked",
  "balance_empty",
  "wrong_region",
  "rate_limited",
  "unknown",
] as const;
export type KeyClass = (typeof KEY_CLASSES)[number];

/**
 * One shape of a provider's refusal: an HTTP status, and where the status alone is not enough a
 * business code in the body (`error.code`, `error.type`, `code` or `base_resp.status_code`). The
 * first rule that matches decides; a key no rule matches is `unknown`.
 */
export const KeyTriageRuleSchema = Type.Object(
  {
    status: Type.Integer({ minimum: 100, maximum: 599, description: "the upstream's HTTP status" }),
    body_code: Type.Optional(
      Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$", description: "business code in the body" }),
    ),
    class: Type.Union([
      Type.Literal("revoked"),
      Type.Literal("balance_empty"),
      Type.Literal("wrong_region"),
      Type.Literal("rate_limited"),
    ]),
    source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 500, description: "where the shape was read" }),
    ),
    read_at: Type.Optional(IsoDate),
  },
  { additionalProperties: false },
);
export type KeyTriageRule = Static<typeof KeyTriageRuleSchema>;

export const ProviderDefinitionSchema = Type.Object(
  {
    provider_id: Id,
    display_name: NonEmpty,
    base_url: Type.String({ minLength: 1, maxLength: 500 }),
    /** The API region the base URL (and so the keys) belong to, e.g. `cn`, `intl`, `us`. */
    region: Type.Optional(
      Type.String({
        pattern: "^[a-z][a-z0-9-]{1,31}$",
        description: "API region of base_url: cn, intl, us, global",
      }),
    ),
    /** Providers of one family are the same API in different regions; each region once per pack. */
    family: Type.Optional(
      Type.String({ pattern: SLUG_PATTERN, description: "providers that are one API in different regions" }),
    ),
    platforms: Type.Object({ preferred: NonEmpty, fallback: NonEmpty }, { additionalProperties: false }),
    api_protocol: Type.Literal("chat_completions"),
    account_mode: Type.Optional(Type.Union([Type.Literal("payg"), Type.Literal("coding")])),
    default_models: Type.Array(NonEmpty, { maxItems: 200, uniqueItems: true }),
    smoke_test_model: NonEmpty,
    model_mapping: Type.Optional(Type.Record(Type.String({ minLength: 1 }), NonEmpty)),
    model_lifecycle: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 200 }), ModelLifecycleSchema),
    ),
    key_pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** How this provider says "revoked", "no balance", "rate limited" (first match wins). */
    key_triage: Type.Optional(Type.Array(KeyTriageRuleSchema, { maxItems: 32 })),
    account_defaults: Type.Object(
      {
        concurrency: Type.Integer({ minimum: 1, maximum: 1000 }),
        priority: Type.Integer({ minimum: 0, maximum: 1000 }),
      },
      { additionalProperties: false },
    ),
    group_defaults: Type.Object(
      {
        subscription_type: Type.Union([Type.Literal("standard"), Type.Literal("subscription")]),
        // sub2api refuses 0 with 500 "rate_multiplier must be > 0" (issue #13).
        rate_multiplier: Type.Number({ exclusiveMinimum: 0 }),
        daily_limit_usd: Type.Optional(Usd),
        weekly_limit_usd: Type.Optional(Usd),
        monthly_limit_usd: Type.Optional(Usd),
        is_exclusive: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    pricing: Type.Optional(Type.Array(ProviderPricingSchema, { maxItems: 200 })),
    plan: Type.Optional(
      Type.Object(
        {
          price: Type.Number({ exclusiveMinimum: 0 }),
          currency: Type.String({ pattern: "^[A-Z]{3}$" }),
          validity_days: Type.Integer({ minimum: 1, maximum: 36500 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: "ProviderDefinition" },
);
export type ProviderDefinition = Static<typeof ProviderDefinitionSchema>;

// Compiled on first use: most CLI commands never validate a pack, and compiling costs start-up time.
let compiled:
  | { manifest: ValidateFunction<PackManifest>; provider: ValidateFunction<ProviderDefinition> }
  | undefined;
function validators() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    compiled = {
      manifest: ajv.compile<PackManifest>(PackManifestSchema),
      provider: ajv.compile<ProviderDefinition>(ProviderDefinitionSchema),
    };
  }
  return compiled;
}

export function validateManifest(
  value: unknown,
): { ok: true; value: PackManifest } | { ok: false; errors: ErrorObject[] } {
  const v = validators().manifest;
  return v(value) ? { ok: true, value } : { ok: false, errors: v.errors ?? [] };
}

export function validateProvider(
  value: unknown,
): { ok: true; value: ProviderDefinition } | { ok: false; errors: ErrorObject[] } {
  const v = validators().provider;
  return v(value) ? { ok: true, value } : { ok: false, errors: v.errors ?? [] };
}
