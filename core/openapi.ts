/**
 * `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document, generated from the same zod schemas
 * that validate requests, so the document cannot drift from what the Worker accepts.
 */
import { z } from "zod";
import { Ga4BodySchema } from "./compat/ga4.ts";
import { PlausibleBodySchema } from "./compat/plausible.ts";
import { UmamiBodySchema } from "./compat/umami.ts";
import { EventInputSchema } from "./event.ts";
import { alertPaths } from "./openapi/alert-paths.ts";
import { body, errors, json, KEY_ERRORS, QUERY_NOTES, queryParameters } from "./openapi/answers.ts";
import { deadLetterPaths } from "./openapi/dead-letter-paths.ts";
import { ingestPaths } from "./openapi/ingest-paths.ts";
import { opsPaths } from "./openapi/ops-paths.ts";
import { adminJobPaths, privacyPaths, propertyPaths } from "./openapi/property-paths.ts";
import { teamPaths } from "./openapi/team-paths.ts";
import { ErasureStatusSchema, PropertyDeletionSchema } from "./privacy/erasure.ts";
import { SavedFunnelsSchema } from "./property/funnels.ts";
import { CreateGoalSchema } from "./property/goals.ts";
import { CreatePropertySchema, PatchPropertySchema } from "./property/property.ts";
import { BotsQuerySchema } from "./query/bots.ts";
import { ReportParamsSchema } from "./query/report-spec.ts";
import { METRICS, type Metric, QuerySpecSchema } from "./query/spec.ts";
import { ReplaySpecSchema } from "./replay/replay.ts";
import { BackfillSpecSchema } from "./warehouse/backfill.ts";
import { DataQualityQuerySchema } from "./warehouse/quality.ts";

export const ErrorEnvelopeSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), status: z.number().int() }),
});

export const ResultRowSchema = z.object({
  dimensions: z.array(z.string()).meta({ description: "Values of the query's dimensions, in its order" }),
  metrics: z.array(z.number()).meta({ description: "Values of the query's metrics, in its order" }),
});

export const QueryResponseSchema = z.object({
  results: z.array(ResultRowSchema),
  comparison: z.array(ResultRowSchema).nullable().optional(),
  meta: z.object({
    source: z.enum(["live", "clickhouse", "warehouse", "mixed"]).meta({
      description:
        "Which store answered: the property's actor (live), ClickHouse (the hot days), the warehouse (older), or both merged (mixed)",
    }),
    cached: z.boolean(),
    cache: z.enum(["upstash", "cache-api", "none"]),
    took_ms: z.number(),
    total_rows: z.number().int().optional(),
    plan: z.string().meta({ description: "Which tables answered, and why" }),
    comparison_unavailable: z.string().optional(),
    currency: z
      .string()
      .optional()
      .meta({ description: "With total_revenue or average_revenue: the currency (ISO 4217) their numbers are in" }),
    other_currencies: z.array(z.string()).optional().meta({
      description:
        "With a revenue metric: other currencies revenue was recorded in over the query; not converted, not summed",
    }),
  }),
  query: z
    .record(z.string(), z.unknown())
    .meta({ description: "The normalised query: presets resolved, defaults filled" }),
});

/** A visitor erasure's answer (workers/privacy/routes.ts). */
export const ErasureAcceptedSchema = z.object({
  erasure_id: z.string(),
  status_url: z.string(),
  status: ErasureStatusSchema,
});

/** One line per metric for the document (README "Query API" has the full table). Rates are fractions 0..1. */
const METRIC_DOCS: Record<Metric, string> = {
  visitors: "distinct visitors",
  visits: "sessions (30 min of inactivity end one)",
  pageviews: "pageview events",
  events: "all events",
  bounce_rate: "single-pageview visits without an interactive event ÷ visits; no event: dimension",
  avg_session_duration: "mean visit duration, seconds; no event: dimension",
  views_per_visit: "pageviews ÷ visits",
  conversion_rate: "converting visitors ÷ all visitors of the query (in a breakdown too); needs a goal filter",
  group_conversion_rate: "converting visitors ÷ the row's visitors; needs a goal filter",
  percentage: "the row's visitors ÷ all visitors of the query; needs a dimension",
  exit_rate: "exits ÷ the page's pageviews; only with the one dimension visit:exit_page, no event filters",
  time_on_page: "engaged seconds on the page per visit; needs event:page as dimension or filter",
  scroll_depth: "each visit's deepest scroll (0-100) averaged; needs event:page as dimension or filter",
  total_revenue: "sum of revenue in include.currency (default the property's); a number, not converted",
  average_revenue: "total_revenue ÷ revenue-bearing events",
};

function querySpecDocument() {
  const doc = json(QuerySpecSchema);
  const metrics = doc.properties?.metrics;
  if (metrics && typeof metrics === "object")
    metrics.description = METRICS.map((m) => `${m}: ${METRIC_DOCS[m]}`).join("\n");
  return doc;
}

export function openApiDocument(serverUrl: string): Record<string, unknown> {
  const queryAnswer = {
    description: `Results; metrics in the query's order (${METRICS.join(", ")}). CSV with Accept: text/csv or format=csv.`,
    content: { "application/json": { schema: { $ref: "#/components/schemas/QueryResponse" } }, "text/csv": {} },
  };
  const queryErrors = errors([...KEY_ERRORS, 413, 503], QUERY_NOTES);
  return {
    openapi: "3.1.0",
    info: { title: "Tally API", version: "1", description: "Event-sourced web analytics on Cloudflare's edge" },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A property's API key, or the admin token" },
      },
      schemas: {
        Error: json(ErrorEnvelopeSchema, "output"),
        Event: json(EventInputSchema),
        PlausibleEvent: json(PlausibleBodySchema),
        Ga4Body: json(Ga4BodySchema),
        UmamiBody: json(UmamiBodySchema),
        QuerySpec: querySpecDocument(),
        QueryResponse: json(QueryResponseSchema, "output"),
        Goal: json(CreateGoalSchema),
        Funnels: json(SavedFunnelsSchema),
        CreateProperty: json(CreatePropertySchema),
        PatchProperty: json(PatchPropertySchema),
        PropertyDeletion: json(PropertyDeletionSchema, "output"),
        ErasureAccepted: json(ErasureAcceptedSchema, "output"),
        ErasureStatus: json(ErasureStatusSchema, "output"),
        ReplaySpec: json(ReplaySpecSchema),
        BackfillSpec: json(BackfillSpecSchema),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      ...ingestPaths(),
      "/api/v1/query": {
        post: {
          summary: "Run a query in the query language",
          requestBody: body("QuerySpec"),
          responses: { "200": queryAnswer, ...queryErrors },
        },
        get: {
          summary: "The same, with the query as URL-encoded JSON",
          parameters: [{ name: "q", in: "query", required: true, schema: { type: "string" } }],
          responses: { "200": queryAnswer, ...queryErrors },
        },
      },
      "/api/v1/reports": {
        get: {
          summary: "Canned reports built on the query engine",
          parameters: queryParameters(ReportParamsSchema),
          responses: { "200": { description: "The report" }, ...queryErrors },
        },
      },
      "/api/v1/bots": {
        get: {
          summary:
            "Audit bot filtering: counts per reason and samples; reclassify=true re-applies today's rules (two quota units)",
          parameters: queryParameters(BotsQuerySchema),
          responses: {
            "200": { description: "Counts per reason, visitors, samples" },
            ...errors([...KEY_ERRORS, 503], QUERY_NOTES),
          },
        },
      },
      "/api/v1/data-quality": {
        get: {
          summary: "Events per hour in the archive, ClickHouse and the warehouse",
          parameters: queryParameters(DataQualityQuerySchema),
          responses: { "200": { description: "One row per hour" }, ...errors([...KEY_ERRORS, 501, 503]) },
        },
      },
      ...propertyPaths(),
      ...privacyPaths(),
      ...adminJobPaths(),
      ...opsPaths(),
      ...alertPaths(),
      ...teamPaths(),
      ...deadLetterPaths(),
    },
  };
}
