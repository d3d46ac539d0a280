import { Type } from "@sinclair/typebox";
import { KEY_CLASSES } from "../../../domain/pack/schema.js";
import { Bool, Int, Nullable, Num, Str } from "./build.js";
import { StringEnum } from "./requests.js";

/** The kinds of reconcile finding (domain/drift.ts FindingKind). */
export const FindingKind = () =>
  StringEnum([
    "missing",
    "changed",
    "unexpected",
    "account_failing",
    "access_broken",
    "incompatible",
    "smoke_model_missing",
    "model_retired",
    "model_added",
  ]);

/** What a key turned out to be, from its provider's answer (docs/import.md, key triage). */
export const KeyClass = () => StringEnum([...KEY_CLASSES]);

/** An import's keys per class, and those that need something done grouped with what to do. */
export const ImportTriage = Type.Object({
  counts: Type.Record(Str(), Int()),
  groups: Type.Array(
    Type.Object({
      class: KeyClass(),
      count: Int(),
      next_step: Str(),
      suggested_provider: Nullable(Str()),
      keys: Type.Array(Type.Object({ key: Str({ maxLength: 16 }), line: Nullable(Int()) })),
    }),
  ),
});

/** A preview's pre-check of each new key. */
export const PlanKeyTriage = Type.Array(
  Type.Object({
    position: Int(),
    line: Int(),
    key: Str({ maxLength: 16 }),
    class: KeyClass(),
    reason: Str(),
    next_step: Str(),
    suggested_provider: Nullable(Str()),
  }),
);

/** With `balance=true`: each relay account's provider balance, where the host knows it (0.1.178+, Kimi and DeepSeek). */
export const AccountBalances = Type.Array(
  Type.Object({
    account_id: Int(),
    account_name: Str(),
    success: Bool(),
    balance: Nullable(Num()),
    currency: Nullable(Str()),
    balances: Type.Array(Type.Object({ currency: Str(), balance: Num() })),
    available: Nullable(Bool()),
    fetched_at: Nullable(Int()),
    error: Nullable(Str()),
  }),
);
