import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Context } from "hono";
import { invalidInput } from "../../domain/errors.js";

export const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });

/** Reads and validates a JSON body; every problem is reported at once with its JSON pointer. */
export async function jsonBody<T>(c: Context, validate: ValidateFunction<T>): Promise<T> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw invalidInput(
      "UNSUPPORTED_CONTENT_TYPE",
      `expected Content-Type application/json, got "${type || "none"}"`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch (err) {
    throw invalidInput("INVALID_JSON", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!validate(body)) {
    throw invalidInput("INVALID_REQUEST", "request body does not match the schema", {
      details: describeErrors(validate.errors ?? []),
    });
  }
  return body;
}

export function describeErrors(errors: ErrorObject[]) {
  return errors.map((e) => ({
    pointer: e.instancePath || "/",
    message:
      e.keyword === "additionalProperties"
        ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : (e.message ?? "invalid"),
  }));
}

/** A user to subscribe: `{user_id, duration_days?}`; ids may come as numbers or digit strings. */
export const userTargetsSchema = {
  type: "array",
  maxItems: 1000,
  items: {
    type: "object",
    additionalProperties: false,
    required: ["user_id"],
    properties: {
      user_id: {
        anyOf: [
          { type: "integer", minimum: 1 },
          { type: "string", pattern: "^[1-9][0-9]{0,17}$" },
        ],
      },
      duration_days: { type: "integer", minimum: 1, maximum: 36500 },
    },
  },
} as const;
