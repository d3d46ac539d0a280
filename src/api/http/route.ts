import type { Static } from "@sinclair/typebox";
import type { Context, Hono } from "hono";
import type { AppContext } from "../../app/context.js";
import {
  errors,
  body as jsonRequestBody,
  optionalBody,
  pathParam,
  query,
  ref,
  type Schema,
} from "./openapi-parts.js";
import { requestSchemas } from "./schemas/requests.js";
import type { responseSchemas } from "./schemas/responses.js";
import { jsonBody, validator } from "./validate.js";

/**
 * Each API route declared once (as unkey's `createRoute`): its method, path, query, request body
 * and answers give both the Hono registration (the body validated before the handler runs, an
 * unknown field a 400) and the OpenAPI operation; the handler's input is typed from the same
 * schemas. `mountRoutes` is the only way routes/*.ts reach the app, and openapi.ts builds `paths`
 * from the same list, so a route cannot be served without being documented.
 */

type Method = "get" | "post" | "put" | "delete";
type RequestName = keyof typeof requestSchemas;
/** A component of the document the route answers with (schemas/responses.ts, or openapi.ts). */
type ResponseName = keyof typeof responseSchemas | "ProviderDefinitionList";
/** `"Host"`, or `["Host", "what this status means"]` (the description defaults to "ok"). */
type Answer = ResponseName | readonly [ResponseName, string];
/** A query parameter's description; `required` only documents it (the handler says what is missing). */
type QuerySpec = string | { description: string; required: true };

/** `"/api/hosts/{host_id}/probe"` → `"host_id"`. */
type ParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? N | ParamNames<Rest>
  : never;

/** What `relay serve` lends the handlers beside the context. */
export interface RouteEnv {
  ctx: AppContext;
  /** Work that goes on after its request was answered (an accepted import): the stop waits for it. */
  track: (work: Promise<unknown>, label: string) => void;
}

export interface RouteInput<P extends string, Q extends string, B extends RequestName | undefined> {
  params: { [K in ParamNames<P>]: string };
  query: { [K in Q]: string | undefined };
  body: B extends RequestName ? Static<(typeof requestSchemas)[B]> : undefined;
}

interface RouteSpec<P extends string, Q extends string, B extends RequestName | undefined> {
  method: Method;
  /** The path as OpenAPI writes it: `/api/hosts/{host_id}`. */
  path: P;
  summary: string;
  operationId: string;
  query?: Record<Q, QuerySpec>;
  /** `?limit` and `?cursor` (the handler pages with `page()`). */
  paged?: boolean;
  /** A JSON body, validated before the handler runs. */
  body?: B;
  /** Every field of the body is optional: no body at all reads as `{}`. */
  bodyOptional?: boolean;
  /** A body the handler reads itself (several media types): documented as given, not validated here. */
  rawBody?: Schema;
  responses: Partial<Record<200 | 201 | 202, Answer>>;
  handler: (c: Context, input: RouteInput<P, Q, B>, env: RouteEnv) => Response | Promise<Response>;
}

/** A declaration with its types erased, as the app and the document take it. */
export type Route = RouteSpec<string, string, RequestName | undefined>;

export function defineRoute<
  P extends string,
  Q extends string = never,
  B extends RequestName | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): Route {
  return spec as unknown as Route;
}

const paramNames = (path: string) => [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1] as string);

/** Registers the routes on the app (paths in Hono's `:name` form); the bodies' validators compile on first use. */
export function mountRoutes(app: Hono, routes: readonly Route[], env: RouteEnv): void {
  for (const route of routes) {
    const validate = route.body ? validator(requestSchemas[route.body]) : undefined;
    const names = Object.keys(route.query ?? {});
    app.on(route.method.toUpperCase(), route.path.replace(/\{([a-z_]+)\}/g, ":$1"), async (c) => {
      const body = validate
        ? await jsonBody(c, validate, { optional: route.bodyOptional === true })
        : undefined;
      const input = {
        params: c.req.param() as Record<string, string>,
        query: Object.fromEntries(names.map((n) => [n, c.req.query(n)])),
        body: body as never,
      };
      return route.handler(c, input, env);
    });
  }
}

/** `?limit` and `?cursor` of every list endpoint. */
const paging = () => [
  query("limit", "items per page, 1 to 1000 (default 1000)"),
  query("cursor", "`next_cursor` of the previous page"),
];

/** The OpenAPI operation of one declaration; every API operation may answer the common errors. */
function operation(route: Route) {
  const parameters = [
    ...paramNames(route.path).map(pathParam),
    ...Object.entries<QuerySpec>(route.query ?? {}).map(([name, spec]) =>
      typeof spec === "string" ? query(name, spec) : query(name, spec.description, true),
    ),
    ...(route.paged ? paging() : []),
  ];
  const requestBody = route.rawBody
    ? { requestBody: route.rawBody }
    : route.body
      ? (route.bodyOptional ? optionalBody : jsonRequestBody)(route.body)
      : {};
  const ok = Object.fromEntries(
    Object.entries<Answer>(route.responses).map(([status, answer]) => {
      const [name, description] = typeof answer === "string" ? [answer, "ok"] : answer;
      return [status, { description, content: { "application/json": { schema: ref(name) } } }];
    }),
  );
  return {
    summary: route.summary,
    operationId: route.operationId,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...requestBody,
    responses: { ...ok, ...errors(400, 401, 404, 409, 422, 502) },
  };
}

/** The document's `paths` for the declarations, in their order. */
export function routePaths(routes: readonly Route[]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const ops = paths[route.path] ?? {};
    ops[route.method] = operation(route);
    paths[route.path] = ops;
  }
  return paths;
}
