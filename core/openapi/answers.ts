/**
 * The building blocks of the OpenAPI document (core/openapi.ts): JSON Schema from zod, the one error
 * envelope per status with what it means, parameters and bodies.
 */
import { z } from "zod";

/** A zod schema as JSON Schema, without `$schema` (the document says it is 3.1). */
export const json = (schema: z.ZodType, io: "input" | "output" = "input") => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
};

/** The error statuses the API answers. */
export type Status = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 426 | 429 | 501 | 503;

const ERROR_DOCS: Record<Status, string> = {
  400: "Invalid request: the message names the field and what is allowed",
  401: "No valid API key or admin token",
  403: "The key belongs to another property",
  404: "Unknown property",
  409: "The id is taken, or was deleted (property_deleted: ids are never reused)",
  410: "property_deleted: the property was deleted; its id is never reused",
  413: "payload_too_large: the body is over this route's bound",
  426: "upgrade_required: only a WebSocket upgrade is answered here",
  429: "rate_limited: a quota or rate limit, or this address failed authentication too often (every credentialed route answers so for 60 s); wait Retry-After seconds",
  501: "warehouse_unavailable: no warehouse is configured (WAREHOUSE_URL is empty)",
  503: "Unavailable for now; retry after Retry-After seconds",
};

const RETRY_AFTER = { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } };

/** Error answers, each the one envelope; `notes` replaces a status's generic description. */
export function errors(statuses: readonly Status[], notes: Partial<Record<Status, string>> = {}) {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: notes[status] ?? ERROR_DOCS[status],
        ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    ]),
  );
}

/** Routes of one property (its API key or the admin token). */
export const KEY_ERRORS = [400, 401, 403, 404, 429] as const;
/** The admin API's property routes. */
export const ADMIN_ERRORS = [400, 401, 404, 410, 429] as const;
/** The collect endpoints (no credentials). */
export const COLLECT_ERRORS = [400, 403, 404, 413, 429, 503] as const;
/** What the collect endpoints' errors mean there. */
export const COLLECT_NOTES = {
  403: "The Origin is not one of the property's domains",
  429: "Over the events rate limit, or over this address's lookups of unknown properties; Retry-After: 60",
  503: "queue_unavailable: nothing was accepted; retry with the same event ids",
};
/** What the query routes' errors mean there (README "Locked-down queries"). */
export const QUERY_NOTES = {
  400: "Invalid query (the message names the field), a pattern RE2 cannot compile, or query_too_large: more result rows than QUERY_MAX_RESULT_ROWS",
  413: "payload_too_large: the body or q is over 64 KB",
  429: "rate_limited: the property's QUERY_LIMIT_PER_HOUR (one unit per SQL statement) is spent, or this address failed authentication too often",
  503: "query_timeout (past QUERY_MAX_EXECUTION_SECONDS), query_too_large (past QUERY_MAX_MEMORY_BYTES), clickhouse_unavailable, or warehouse_unavailable",
};

/** A JSON request body referring to a component schema. */
export const body = (ref: string, contentType = "application/json") => ({
  required: true,
  content: { [contentType]: { schema: { $ref: `#/components/schemas/${ref}` } } },
});
/** A success answer, with its component schema when it has one. */
export const ok = (description: string, ref?: string) => ({
  description,
  ...(ref ? { content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } } : {}),
});

/** A zod object's fields as query parameters. */
export function queryParameters(schema: z.ZodObject) {
  const doc = json(schema) as { properties: Record<string, object>; required?: string[] };
  return Object.entries(doc.properties).map(([name, s]) => ({
    name,
    in: "query",
    required: doc.required?.includes(name) ?? false,
    schema: s,
  }));
}
/** Required path parameters. */
export const inPath = (...names: string[]) =>
  names.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
/** A required query parameter. */
export const inQuery = (name: string, description: string) => ({
  name,
  in: "query",
  required: true,
  description,
  schema: { type: "string" },
});
