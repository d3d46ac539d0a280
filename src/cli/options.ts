import type { Static, TObject } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Command } from "commander";

const ajv = new Ajv({ allErrors: true, strict: true });
const compiled = new WeakMap<TObject, ValidateFunction>();

/** `--metrics-file` for `/metricsFile`: the flag the operator typed. */
function flagOf(e: ErrorObject): string {
  const key =
    e.keyword === "additionalProperties"
      ? String((e.params as { additionalProperty: string }).additionalProperty)
      : (e.instancePath.split("/")[1] ?? "");
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A command's options, checked against its schema and typed by it. A value the schema refuses is a
 * usage error (exit 1, `USAGE` under --json, help hint), as commander's own refusals are.
 */
export function parseOptions<S extends TObject>(schema: S, raw: unknown, cmd: Command): Static<S> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(raw)) return raw as Static<S>;
  const problems = (validate.errors ?? []).map((e) =>
    e.keyword === "additionalProperties"
      ? `option '${flagOf(e)}' is not known to this command`
      : `option '${flagOf(e)}' ${e.message ?? "is invalid"}`,
  );
  return cmd.error(`error: ${[...new Set(problems)].join("; ")}`, {
    exitCode: 1,
    code: "relay.invalidOption",
  });
}
