import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  ValueNode,
} from "kysely";
import { AppError } from "../domain/errors.js";
import { BOOLEAN_COLUMNS, JSON_COLUMNS } from "./schema.js";

export type StoreKind = "sqlite" | "postgres";

/**
 * Values as both engines store them (schema.ts): an object or array is written as JSON text, a
 * boolean as 0/1; read back, the columns the schema declares `json` or `boolean` are parsed. Every
 * value still travels as a bound parameter. PostgreSQL text cannot hold U+0000 (SQLite's can):
 * such a value is bad input, refused before it is sent, never a 500.
 */
export function stored(kind: StoreKind, v: unknown): unknown {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    if (kind === "postgres" && v.includes("\u0000"))
      throw new AppError(
        "invalid_input",
        "INVALID_TEXT",
        "text with a NUL character (U+0000) is not accepted",
      );
    return v;
  }
  if (v !== null && typeof v === "object" && !(v instanceof Date) && !Buffer.isBuffer(v))
    return JSON.stringify(v);
  return v;
}

class Values extends OperationNodeTransformer {
  constructor(readonly kind: StoreKind) {
    super();
  }

  protected override transformValue(node: ValueNode): ValueNode {
    const value = stored(this.kind, node.value);
    return value === node.value ? node : ValueNode.create(value);
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return PrimitiveValueListNode.create(node.values.map((v) => stored(this.kind, v)));
  }
}

function parse(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readRow(row: UnknownRow): UnknownRow {
  let out: UnknownRow | undefined;
  for (const key of Object.keys(row)) {
    const v = row[key];
    let next = v;
    if (JSON_COLUMNS.has(key)) next = parse(v);
    else if (BOOLEAN_COLUMNS.has(key) && typeof v === "number") next = v === 1;
    if (next !== v) {
      out ??= { ...row };
      out[key] = next;
    }
  }
  return out ?? row;
}

export class StoreValues implements KyselyPlugin {
  readonly #values: Values;

  constructor(kind: StoreKind) {
    this.#values = new Values(kind);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#values.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const { result } = args;
    if (!result.rows || result.rows.length === 0) return result;
    return { ...result, rows: result.rows.map(readRow) };
  }
}
