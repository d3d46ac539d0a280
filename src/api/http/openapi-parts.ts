/** The OpenAPI document's building blocks: operations, bodies, parameters, answers (openapi.ts, route.ts). */
export type Schema = Record<string, unknown>;
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const str: Schema = { type: "string" };

const json = (schema: string) => ({ "application/json": { schema: ref(schema) } });
const ERROR_TEXT: Record<number, string> = {
  400: "invalid input (the body, a parameter, keys)",
  401: "missing or invalid bearer token",
  404: "not found",
  409: "conflict: the provider is busy (an import, rollback, recovery or reconcile is running), or the plan changed or is blocked",
  422: "the pack or the host cannot be used (full report in details)",
  502: "the host is unreachable or refused the call",
};
export const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? "error", content: json("Error") }]),
  );
export const body = (schema: string) => ({ requestBody: { required: true, content: json(schema) } });
/** A body whose every field is optional: none at all is `{}`; an unknown field is still a 400. */
export const optionalBody = (schema: string) => ({ requestBody: { required: false, content: json(schema) } });
export const pathParam = (name: string) => ({ name, in: "path", required: true, schema: str });
export const query = (name: string, description: string, required = false) => ({
  name,
  in: "query",
  required,
  description,
  schema: str,
});
export const open = (summary: string, operationId: string, responses: Schema) => ({
  get: { summary, operationId, security: [], responses },
});
export const jsonOf = (description: string, schema: Schema) => ({
  description,
  content: { "application/json": { schema } },
});
export const objectOf = (properties: Record<string, Schema>) => ({
  type: "object",
  properties,
  required: Object.keys(properties),
});
