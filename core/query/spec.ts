/**
 * The query language (modelled on Plausible's Stats API v2): one zod contract for what a client
 * may ask. `POST /api/v1/query`, the reports and the dashboard all speak it. Validation names the
 * offending field and the allowed values; the normalised form (core/query/normalise.ts) is what the
 * planner, the SQL builder and the cache key see.
 */
import { z } from "zod";
import { PROPERTY_ID_PATTERN } from "../event.ts";
import { CurrencySchema } from "../property/property.ts";

export const METRICS = [
  "visitors",
  "visits",
  "pageviews",
  "events",
  "bounce_rate",
  "avg_session_duration",
  "views_per_visit",
  "conversion_rate",
  "group_conversion_rate",
  "percentage",
  "exit_rate",
  "time_on_page",
  "scroll_depth",
  "total_revenue",
  "average_revenue",
] as const;
export type Metric = (typeof METRICS)[number];

/**
 * Where each dimension lives. `event`: a column of the event only (page, name, hostname, props).
 * `session`: set once per visit (acquisition, entry/exit pages) — on the `sessions` table only.
 * `visitor`: constant within a visit and stored on both tables (device, geography, language).
 */
export const DIMENSION_SCOPE = {
  "event:page": "event",
  "event:name": "event",
  "event:hostname": "event",
  "visit:entry_page": "session",
  "visit:exit_page": "session",
  "visit:source": "session",
  "visit:referrer": "session",
  "visit:channel": "session",
  "visit:utm_source": "session",
  "visit:utm_medium": "session",
  "visit:utm_campaign": "session",
  "visit:utm_term": "session",
  "visit:utm_content": "session",
  "visit:device": "visitor",
  "visit:browser": "visitor",
  "visit:browser_version": "visitor",
  "visit:os": "visitor",
  "visit:os_version": "visitor",
  "visit:country": "visitor",
  "visit:region": "visitor",
  "visit:city": "visitor",
  "visit:language": "visitor",
  "visit:screen": "visitor",
  // Derived per visit from the visitor's earlier sessions (core/query/visitor-type.ts).
  "visit:visitor_type": "session",
} as const;
export type PlainDimension = keyof typeof DIMENSION_SCOPE;
/** `visit:visitor_type` values: `returning` when the visitor had an earlier session, GA4's definition. */
export const VISITOR_TYPES = ["new", "returning"] as const;
export const TIME_DIMENSIONS = ["time:minute", "time:hour", "time:day", "time:week", "time:month"] as const;
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];
export const PROPS_PREFIX = "event:props:";
const PROP_KEY = /^[A-Za-z0-9_.:$-]{1,64}$/;
export type Dimension = PlainDimension | TimeDimension | `event:props:${string}`;

export const isTimeDimension = (d: string): d is TimeDimension => (TIME_DIMENSIONS as readonly string[]).includes(d);
export const isPropDimension = (d: string): d is `event:props:${string}` => d.startsWith(PROPS_PREFIX);
export function isDimension(d: string): d is Dimension {
  return (
    Object.hasOwn(DIMENSION_SCOPE, d) ||
    isTimeDimension(d) ||
    (isPropDimension(d) && PROP_KEY.test(d.slice(PROPS_PREFIX.length)))
  );
}
/** `event`, `session` or `visitor` (time buckets and props count as event-side where they matter). */
export function scopeOf(d: Dimension): "event" | "session" | "visitor" | "time" {
  if (isTimeDimension(d)) return "time";
  if (isPropDimension(d)) return "event";
  return DIMENSION_SCOPE[d];
}

const ALLOWED_DIMENSIONS = `${Object.keys(DIMENSION_SCOPE).join(", ")}, ${TIME_DIMENSIONS.join(", ")}, event:props:<key>`;

export const FILTER_OPERATORS = ["is", "is_not", "contains", "contains_not", "matches", "matches_not"] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];
export const GOAL_DIMENSION = "event:goal";

export type Filter =
  | [FilterOperator, Dimension | typeof GOAL_DIMENSION, string[]]
  | ["and", Filter[]]
  | ["or", Filter[]]
  | ["not", Filter];

export const DATE_PRESETS = ["realtime", "today", "yesterday", "7d", "30d", "90d", "12mo", "all"] as const;
export type DatePreset = (typeof DATE_PRESETS)[number];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Bounds on a filter tree, so one query cannot ask ClickHouse for an unbounded expression. */
export const FILTER_LIMITS = {
  depth: 4,
  /** Filters at the top level, and inside one `and` / `or`. */
  list: 50,
  /** Values of one leaf. */
  values: 100,
  /** Leaves and combinators in the whole tree. */
  nodes: 200,
  valueLength: 2048,
} as const;

/** RE2 has no lookaround or backreferences; refuse them here rather than as a ClickHouse error. */
function regexProblem(pattern: string): string | undefined {
  if (/\(\?[=!<]|\\[1-9]/.test(pattern)) return "uses lookaround or a backreference, which RE2 does not support";
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    return `is not a valid regular expression (${(e as Error).message})`;
  }
}

type Ctx = z.core.$RefinementCtx;

function issue(ctx: Ctx, path: (string | number)[], message: string): undefined {
  ctx.addIssue({ code: "custom", path, message });
  return undefined;
}

/** Filters are nested tuples; parsed by hand so every error names its exact position. */
function parseFilter(value: unknown, path: (string | number)[], ctx: Ctx, depth: number): Filter | undefined {
  if (!Array.isArray(value) || typeof value[0] !== "string")
    return issue(ctx, path, `must be [operator, dimension, [values]] or ["and"|"or", [filters]] or ["not", filter]`);
  const [op, second, third] = value as [string, unknown, unknown];
  if (op === "and" || op === "or") {
    if (depth >= FILTER_LIMITS.depth) return issue(ctx, path, `nests deeper than ${FILTER_LIMITS.depth} levels`);
    if (!Array.isArray(second) || second.length === 0 || value.length !== 2)
      return issue(ctx, path, `["${op}", [filters]] needs a non-empty list of filters`);
    if (second.length > FILTER_LIMITS.list)
      return issue(ctx, [...path, 1], `holds ${second.length} filters; at most ${FILTER_LIMITS.list}`);
    const inner = second.map((f, i) => parseFilter(f, [...path, 1, i], ctx, depth + 1));
    return inner.every((f) => f !== undefined) ? [op, inner as Filter[]] : undefined;
  }
  if (op === "not") {
    if (depth >= FILTER_LIMITS.depth) return issue(ctx, path, `nests deeper than ${FILTER_LIMITS.depth} levels`);
    if (value.length !== 2) return issue(ctx, path, `["not", filter] takes exactly one filter`);
    const inner = parseFilter(second, [...path, 1], ctx, depth + 1);
    return inner ? ["not", inner] : undefined;
  }
  if (!(FILTER_OPERATORS as readonly string[]).includes(op))
    return issue(
      ctx,
      [...path, 0],
      `"${op}" is not an operator; allowed: ${FILTER_OPERATORS.join(", ")}, and, or, not`,
    );
  if (value.length !== 3) return issue(ctx, path, "must be [operator, dimension, [values]]");
  if (typeof second !== "string" || (second !== GOAL_DIMENSION && (!isDimension(second) || isTimeDimension(second))))
    return issue(
      ctx,
      [...path, 1],
      `${JSON.stringify(second)} cannot be filtered on; allowed: ${ALLOWED_DIMENSIONS.replace(/, time:[a-z]+/g, "")}, event:goal`,
    );
  if (second === GOAL_DIMENSION && op !== "is")
    return issue(ctx, [...path, 0], `event:goal can only be filtered with "is"`);
  if (second === "visit:visitor_type" && !["is", "is_not"].includes(op))
    return issue(ctx, [...path, 0], `visit:visitor_type can only be filtered with "is" or "is_not"`);
  if (!Array.isArray(third) || third.length === 0 || third.length > FILTER_LIMITS.values)
    return issue(ctx, [...path, 2], `must be a list of 1 to ${FILTER_LIMITS.values} strings`);
  for (const [i, v] of third.entries()) {
    if (typeof v !== "string" || v.length === 0 || v.length > FILTER_LIMITS.valueLength)
      return issue(
        ctx,
        [...path, 2, i],
        `must be a non-empty string of at most ${FILTER_LIMITS.valueLength} characters`,
      );
    if (second === "visit:visitor_type" && !(VISITOR_TYPES as readonly string[]).includes(v))
      return issue(
        ctx,
        [...path, 2, i],
        `${JSON.stringify(v)} is not a visitor type; allowed: ${VISITOR_TYPES.join(", ")}`,
      );
    const problem = op.startsWith("matches") ? regexProblem(v) : undefined;
    if (problem) return issue(ctx, [...path, 2, i], problem);
  }
  return [op as FilterOperator, second as Dimension, third as string[]];
}

/** Leaves and combinators in a parsed filter tree. */
export function filterNodes(filter: Filter): number {
  if (filter[0] === "and" || filter[0] === "or") return 1 + filter[1].reduce((n, f) => n + filterNodes(f), 0);
  if (filter[0] === "not") return 1 + filterNodes(filter[1]);
  return 1;
}

const DimensionSchema = z
  .string()
  .refine(isDimension, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a dimension; allowed: ${ALLOWED_DIMENSIONS}`,
  })
  .meta({ description: `One of: ${ALLOWED_DIMENSIONS}` });

const DateRangeSchema = z.union(
  [
    z.enum(DATE_PRESETS),
    z.tuple([z.string().regex(DATE), z.string().regex(DATE)]),
    z.tuple([z.string().regex(DATE_TIME), z.string().regex(DATE_TIME)]),
  ],
  {
    error: `must be one of ${DATE_PRESETS.join(", ")}, ["YYYY-MM-DD","YYYY-MM-DD"] or two ISO 8601 times with an offset`,
  },
);
export type DateRange = z.infer<typeof DateRangeSchema>;

export const QuerySpecSchema = z
  .strictObject({
    property_id: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug"),
    metrics: z
      .array(
        z.enum(METRICS, { error: (i) => `${JSON.stringify(i.input)} is not a metric; allowed: ${METRICS.join(", ")}` }),
      )
      .min(1, "must name at least one metric")
      .max(METRICS.length)
      .refine((m) => new Set(m).size === m.length, "must not repeat a metric"),
    dimensions: z
      .array(DimensionSchema)
      .max(4, "at most 4 dimensions")
      .default([])
      .refine((d) => new Set(d).size === d.length, "must not repeat a dimension")
      .refine((d) => d.filter(isTimeDimension).length <= 1, "at most one time:* dimension"),
    filters: z
      .array(
        z.unknown().meta({
          description: `[operator, dimension, [values]] with operator one of ${FILTER_OPERATORS.join(", ")}; ["and", [filters]], ["or", [filters]], ["not", filter]; goals: ["is", "event:goal", [names]]`,
          examples: [
            ["is", "visit:device", ["mobile"]],
            [
              "or",
              [
                ["contains", "event:page", ["/blog"]],
                ["is", "event:goal", ["Signup"]],
              ],
            ],
          ],
        }),
      )
      .max(FILTER_LIMITS.list, `at most ${FILTER_LIMITS.list} filters`)
      .default([])
      .transform((items, ctx) => {
        const parsed = items.map((f, i) => parseFilter(f, [i], ctx, 0));
        const filters = parsed.filter((f): f is Filter => f !== undefined);
        const nodes = filters.reduce((n, f) => n + filterNodes(f), 0);
        if (nodes > FILTER_LIMITS.nodes)
          ctx.addIssue({
            code: "custom",
            path: [],
            message: `hold ${nodes} filters and combinators in all; at most ${FILTER_LIMITS.nodes}`,
          });
        return filters;
      }),
    date_range: DateRangeSchema.default("30d"),
    timezone: z.string().max(64).optional(),
    order_by: z
      .array(z.tuple([z.string(), z.enum(["asc", "desc"], { error: 'must be "asc" or "desc"' })]))
      .max(5)
      .optional(),
    limit: z.number().int().min(1).max(10_000).default(100),
    offset: z.number().int().min(0).max(1_000_000).default(0),
    compare: z
      .enum(["previous_period", "year_over_year"], { error: 'must be "previous_period", "year_over_year" or null' })
      .nullable()
      .default(null),
    include: z
      .strictObject({
        bots: z.boolean().default(false),
        total_rows: z.boolean().default(false),
        currency: CurrencySchema.optional().meta({
          description:
            "The currency total_revenue and average_revenue sum (ISO 4217); default the property's. Revenue in other currencies is not converted: meta.other_currencies lists it.",
        }),
      })
      .default({ bots: false, total_rows: false }),
  })
  .superRefine((q, ctx) => {
    for (const [i, [key]] of (q.order_by ?? []).entries()) {
      const known = (q.metrics as readonly string[]).includes(key) || (q.dimensions as readonly string[]).includes(key);
      if (!known)
        ctx.addIssue({
          code: "custom",
          path: ["order_by", i, 0],
          message: `${JSON.stringify(key)} is neither a queried metric nor a queried dimension; allowed: ${[...q.metrics, ...q.dimensions].join(", ")}`,
        });
    }
  });
export type QuerySpecInput = z.input<typeof QuerySpecSchema>;
export type QuerySpec = z.infer<typeof QuerySpecSchema>;
