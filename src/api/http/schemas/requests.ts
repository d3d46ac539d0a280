import { type Static, Type } from "@sinclair/typebox";
import { RETEST_PATTERN } from "../../../domain/retest.js";

/**
 * Request bodies, each declared once: the schema validates the body (ajv), `Static` gives the
 * handler its type, and the OpenAPI document embeds the same schema.
 */
const Id = Type.String({ minLength: 1, maxLength: 200 });

/** A string that is one of `values`, as a plain JSON Schema `enum` (one clear ajv message). */
export const StringEnum = <const T extends string[]>(values: [...T]) =>
  Type.Unsafe<T[number]>({ type: "string", enum: values });

/**
 * Users to subscribe: `{user_id, validity_days?}` — `validity_days` is the one name for a
 * subscription's length everywhere (the plan, the result, sub2api's own API); `duration_days` is
 * its former name, still accepted. Ids may come as numbers or digit strings.
 */
export const UserTargets = Type.Array(
  Type.Object(
    {
      // int64 ids, but exact in JavaScript only up to 2^53 - 1: larger ones are refused, not rounded.
      user_id: Type.Union([
        Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
        Type.String({ pattern: "^[1-9][0-9]{0,15}$" }),
      ]),
      validity_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })),
      duration_days: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 36500,
          deprecated: true,
          description: "former name of validity_days",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  { maxItems: 1000 },
);
export type UserTargets = Static<typeof UserTargets>;

export const AddHostRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    base_url: Type.String({ minLength: 1, maxLength: 2048 }),
    auth: Type.Object(
      {
        type: Type.Literal("admin_api_key"),
        token: Type.String({ minLength: 1, maxLength: 512 }),
      },
      { additionalProperties: false },
    ),
    probe_identity: Type.Optional(StringEnum(["auto", "user", "none"])),
    probe_user: Type.Optional(
      Type.Object(
        {
          email: Type.String({ minLength: 3, maxLength: 254 }),
          password: Type.String({ minLength: 6, maxLength: 256 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AddHostRequest = Static<typeof AddHostRequest>;

export const InstallPackPath = Type.Object(
  { path: Type.String({ minLength: 1, maxLength: 4096 }), force: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type InstallPackPath = Static<typeof InstallPackPath>;

export const ImportRequest = Type.Object(
  {
    host_id: Id,
    keys: Type.Array(Type.String({ maxLength: 512 }), { minItems: 1, maxItems: 10_000 }),
    mode: Type.Optional(StringEnum(["strict", "partial"])),
    access_mode: Type.Optional(StringEnum(["subscription", "self-service"])),
    subscription_targets: Type.Optional(UserTargets),
    with_plan: Type.Optional(Type.Boolean()),
    precheck: Type.Optional(
      Type.Boolean({
        description:
          "Check each new key with its upstream (sync-upstream-preview) before any host write; default true for partial imports on hosts that have the route.",
      }),
    ),
    expected_fingerprint: Type.Optional(Type.String({ pattern: "^[0-9a-f]{64}$" })),
  },
  { additionalProperties: false },
);
export type ImportRequest = Static<typeof ImportRequest>;

export const AccessRequest = Type.Object(
  { host_id: Id, users: Type.Optional(UserTargets) },
  { additionalProperties: false },
);
export type AccessRequest = Static<typeof AccessRequest>;

export const ReconcileRequest = Type.Object(
  {
    host_id: Id,
    heal: Type.Optional(Type.Boolean()),
    retest: Type.Optional(
      Type.String({
        pattern: RETEST_PATTERN,
        description: "which accounts to re-test: all (default), failed, none or sample:N",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReconcileRequest = Static<typeof ReconcileRequest>;

const Threshold = Type.Integer({ minimum: 1, maximum: 100 });
export const PolicyRequest = Type.Object(
  {
    host_id: Id,
    enforce: Type.Optional(
      Type.Boolean({
        description: "true: relay pauses and resumes the accounts it made; false: observe mode",
      }),
    ),
    fail_after: Type.Optional(Threshold),
    resume_after: Type.Optional(Threshold),
  },
  { additionalProperties: false },
);
export type PolicyRequest = Static<typeof PolicyRequest>;

export const RotateRequest = Type.Object(
  {
    host_id: Id,
    keys: Type.Array(Type.String({ maxLength: 512 }), {
      minItems: 1,
      maxItems: 10_000,
      description: "the new keys",
    }),
    old_keys: Type.Optional(
      Type.Array(Type.String({ maxLength: 512 }), {
        maxItems: 10_000,
        description:
          "the accounts' current keys: a new key that fails its account test is replaced by the old one again; without it such an account is left paused on the new key",
      }),
    ),
    accounts: Type.Optional(
      Type.Union(
        [
          StringEnum(["revoked", "balance_empty"]),
          Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), {
            minItems: 1,
            maxItems: 10_000,
          }),
        ],
        { description: "which accounts: revoked (default), balance_empty, or account ids" },
      ),
    ),
    max_parallel: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 16, description: "accounts of one group at a time (default 1)" }),
    ),
    dry_run: Type.Optional(Type.Boolean({ description: "answer the plan; write nothing" })),
    expected_fingerprint: Type.Optional(Type.String({ pattern: "^[0-9a-f]{32}$" })),
  },
  { additionalProperties: false },
);
export type RotateRequest = Static<typeof RotateRequest>;

export const ReleaseRequest = Type.Object({ host_id: Id }, { additionalProperties: false });
export type ReleaseRequest = Static<typeof ReleaseRequest>;

/** The body of a write route that takes no fields (remove a host or a pack, probe a host): none, or `{}`. */
export const EmptyRequest = Type.Object({}, { additionalProperties: false });
export type EmptyRequest = Static<typeof EmptyRequest>;

export const RollbackRequest = Type.Object(
  {
    dry_run: Type.Optional(
      Type.Boolean({ description: "answer what a rollback would delete, in order; change nothing" }),
    ),
  },
  { additionalProperties: false },
);
export type RollbackRequest = Static<typeof RollbackRequest>;

/** `POST /api/providers/{id}/migrate` (issue #27 item 3): src/provision/migrate.ts. */
export const MigrateRequest = Type.Object(
  {
    host_id: Id,
    dry_run: Type.Optional(Type.Boolean({ description: "answer the plan; change nothing" })),
    expected_fingerprint: Type.Optional(
      Type.String({
        pattern: "^[0-9a-f]{64}$",
        description: "the dry run's fingerprint: refused with 409 PLAN_STALE when the host changed since",
      }),
    ),
  },
  { additionalProperties: false },
);
export type MigrateRequest = Static<typeof MigrateRequest>;

export const requestSchemas = {
  EmptyRequest,
  RollbackRequest,
  AddHostRequest,
  InstallPackPath,
  ImportRequest,
  AccessRequest,
  ReconcileRequest,
  MigrateRequest,
  PolicyRequest,
  ReleaseRequest,
  RotateRequest,
};
