import { Type } from "@sinclair/typebox";
import { KEY_CLASSES } from "../../../domain/pack/schema.js";
import { Int, Nullable, Str } from "./build.js";
import { StringEnum } from "./requests.js";

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
