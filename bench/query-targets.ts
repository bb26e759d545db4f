/**
 * The query bench's targets (bench/query.ts): each an API request and the statements the core
 * builders make for it — the same path workers/query/run.ts and reports.ts take — so the bench can
 * time the API and the very same SQL sent straight to ClickHouse. Besides the overview and pages
 * (rollups), the shapes issue #20 asks to make fast on the raw tables: filters with a series or a
 * breakdown, a custom-property breakdown, funnels of 3 and 8 steps, retention and goal conversions.
 */
import { buildFunnelSql, type FunnelStep } from "../core/query/funnel.ts";
import {
  comparisonOf,
  type GoalRef,
  normaliseQuery,
  publicQuery,
  type ResolvedQuery,
} from "../core/query/normalise.ts";
import { planQuery } from "../core/query/plan.ts";
import { BREAKDOWNS, type Breakdown, OVERVIEW_METRICS } from "../core/query/report-spec.ts";
import { buildRetentionSql } from "../core/query/retention.ts";
import { type Filter, type QuerySpecInput, QuerySpecSchema } from "../core/query/spec.ts";
import { buildQuerySql } from "../core/query/sql.ts";

export const PROPERTY = "UA-BENCH-1";
export const HOT_RETENTION_DAYS = 90;

export interface Statement {
  name: string;
  sql: string;
  params: Record<string, unknown>;
  settings?: Record<string, number>;
  plan: string;
}
export interface Target {
  name: string;
  request: (base: string) => Request;
  statements: Statement[];
  /** The normalised query the API's answer must echo: proof that both sides run the same query. */
  echo?: unknown;
}

export const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The property's goals (bench/query.ts adds them through the API): two events and two page patterns. */
export const GOALS: GoalRef[] = [
  { name: "Signup", kind: "event", event_name: "signup" },
  { name: "Purchase", kind: "event", event_name: "purchase" },
  { name: "Pricing", kind: "page", page_path: "/pricing" },
  { name: "Docs", kind: "page", page_path: "/docs/**" },
];

const FUNNEL_STEPS: FunnelStep[] = [
  { kind: "page", value: "/" },
  { kind: "page", value: "/pricing" },
  { kind: "event", value: "signup" },
];
/** Pages, patterns and events mixed, in an order some visitors of the generated traffic follow. */
const FUNNEL_8_STEPS: FunnelStep[] = [
  { kind: "page", value: "/" },
  { kind: "page", value: "/features" },
  { kind: "page", value: "/docs/**" },
  { kind: "page", value: "/pricing" },
  { kind: "page", value: "/blog/*" },
  { kind: "page", value: "/signup" },
  { kind: "event", value: "signup" },
  { kind: "event", value: "purchase" },
];
const FILTERED: Partial<QuerySpecInput> = {
  metrics: ["visitors", "visits", "pageviews", "bounce_rate"],
  dimensions: ["time:day"],
  filters: [
    ["is", "visit:device", ["mobile"]],
    ["is_not", "visit:country", ["US"]],
    ["contains", "event:page", ["/blog"]],
  ],
};
/** Mobile visitors from Google: a visitor-side and a session-side filter, broken down by page. */
const TWO_FILTERS: Filter[] = [
  ["is", "visit:device", ["mobile"]],
  ["is", "visit:source", ["Google"]],
];
const PROPS: Partial<QuerySpecInput> = { metrics: ["visitors", "events"], dimensions: ["event:props:plan"] };

/** What workers/query/engine.ts sends with a funnel's or retention's statement (besides the query limits). */
const RAW_SETTINGS = { output_format_json_quote_64bit_integers: 0 };

function resolve(spec: QuerySpecInput, now: number, goals: readonly GoalRef[] = []): ResolvedQuery {
  return normaliseQuery(QuerySpecSchema.parse(spec), { propertyTimezone: "UTC", createdAt: 0, now, goals });
}

/**
 * The statements workers/query/run.ts issues for one query (the main one and its comparison), and
 * the normalised query its response echoes as `query`.
 */
function queryStatements(
  name: string,
  spec: QuerySpecInput,
  now: number,
  goals: readonly GoalRef[] = [],
): { statements: Statement[]; echo: unknown } {
  const q = resolve(spec, now, goals);
  const statements = [q, comparisonOf(q)].flatMap((query, i) => {
    if (!query) return [];
    const plan = planQuery(query, now, HOT_RETENTION_DAYS);
    if (plan.source !== "clickhouse") return [];
    const built = buildQuerySql(query, plan);
    const settings = { output_format_json_quote_64bit_integers: 0, ...built.settings };
    return [
      { name: i ? `${name} (comparison)` : name, sql: built.sql, params: built.params, settings, plan: plan.reason },
    ];
  });
  return { statements, echo: publicQuery(q) };
}

export function targets(apiKey: string, start: string, end: string, now: number): Target[] {
  const auth = { Authorization: `Bearer ${apiKey}` };
  const range = `property=${PROPERTY}&start=${start}&end=${end}`;
  const report = (query: string) => (base: string) =>
    new Request(`${base}/api/v1/reports?${range}&${query}`, { headers: auth });
  const post = (spec: QuerySpecInput) => (b: string) =>
    new Request(`${b}/api/v1/query`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify(spec),
    });
  const json = (value: unknown) => encodeURIComponent(JSON.stringify(value));
  // workers/query/reports.ts baseSpec and breakdown(), with the report's default limit of 10.
  const base: QuerySpecInput = { property_id: PROPERTY, metrics: ["visitors"], date_range: [start, end], filters: [] };
  const top = (name: Breakdown, filters: Filter[] = []) =>
    queryStatements(
      name,
      {
        ...base,
        filters,
        metrics: [...BREAKDOWNS[name].metrics],
        dimensions: [BREAKDOWNS[name].dimension],
        limit: 10,
        offset: 0,
        include: { bots: false, total_rows: true },
      },
      now,
    );
  const totals = queryStatements("totals", { ...base, metrics: OVERVIEW_METRICS, compare: "previous_period" }, now);
  const series = { ...base, metrics: ["visitors", "pageviews", "visits"], dimensions: ["time:day"], limit: 10_000 };
  const overview = [
    ...totals.statements,
    ...queryStatements("series", series as QuerySpecInput, now).statements,
    ...(["pages", "sources", "countries", "devices"] as const).flatMap((name) => top(name).statements),
  ];
  // reports.ts goals(): one query per goal, all at once (it batches eight), with the report's base spec.
  const goals = GOALS.flatMap(
    (g) =>
      queryStatements(
        `goal ${g.name}`,
        {
          ...base,
          include: { bots: false, total_rows: false },
          metrics: ["visitors", "events", "conversion_rate"],
          filters: [["is", "event:goal", [g.name]]],
        },
        now,
        GOALS,
      ).statements,
  );
  // reports.ts funnel() and retention(): the range resolved as a query's, the bench's data all hot.
  const q = resolve(base, now);
  const funnel = (steps: FunnelStep[]): Target => {
    const built = buildFunnelSql({
      property_id: PROPERTY,
      from_ms: q.from,
      to_ms: q.to,
      include_bots: false,
      spec: { steps, window_seconds: 86_400 },
    });
    return {
      name: `funnel, ${steps.length} steps`,
      request: report(`report=funnel&steps=${json(steps)}`),
      statements: [{ name: "funnel", ...built, settings: RAW_SETTINGS, plan: "events (funnel SQL)" }],
    };
  };
  const retention = buildRetentionSql({
    property_id: PROPERTY,
    from_ms: q.from,
    to_ms: q.to,
    include_bots: false,
    timezone: "UTC",
    weeks: 8,
  });
  return [
    // reports.ts echoes the totals' query as the overview's `query`.
    { name: "overview", request: report("report=overview"), statements: overview, echo: totals.echo },
    { name: "pages", request: report("report=pages"), ...top("pages") },
    {
      name: "3 filters × day",
      request: post({ ...base, ...FILTERED }),
      ...queryStatements("filtered", { ...base, ...FILTERED }, now),
    },
    {
      name: "2 filters × pages",
      request: report(`report=pages&filters=${json(TWO_FILTERS)}`),
      ...top("pages", TWO_FILTERS),
    },
    {
      name: "props breakdown",
      request: post({ ...base, ...PROPS }),
      ...queryStatements("props", { ...base, ...PROPS }, now),
    },
    funnel(FUNNEL_STEPS),
    funnel(FUNNEL_8_STEPS),
    {
      name: "retention, 8 weeks",
      request: report("report=retention&weeks=8"),
      statements: [{ name: "retention", ...retention, settings: RAW_SETTINGS, plan: "events (retention SQL)" }],
    },
    { name: `goals (${GOALS.length})`, request: report("report=goals"), statements: goals },
  ];
}
