/**
 * The query bench's targets (bench/query.ts): each an API request and the statements the core
 * builders make for it — the same path workers/query/run.ts and reports.ts take — so the bench can
 * time the API and the very same SQL sent straight to ClickHouse.
 */
import { buildFunnelSql } from "../core/query/funnel.ts";
import { comparisonOf, normaliseQuery, publicQuery, type ResolvedQuery } from "../core/query/normalise.ts";
import { planQuery } from "../core/query/plan.ts";
import { BREAKDOWNS, type Breakdown, OVERVIEW_METRICS } from "../core/query/report-spec.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../core/query/spec.ts";
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
const FUNNEL_STEPS = [
  { kind: "page", value: "/" },
  { kind: "page", value: "/pricing" },
  { kind: "event", value: "signup" },
] as const;
const FILTERED: Partial<QuerySpecInput> = {
  metrics: ["visitors", "visits", "pageviews", "bounce_rate"],
  dimensions: ["time:day"],
  filters: [
    ["is", "visit:device", ["mobile"]],
    ["is_not", "visit:country", ["US"]],
    ["contains", "event:page", ["/blog"]],
  ],
};

function resolve(spec: QuerySpecInput, now: number): ResolvedQuery {
  return normaliseQuery(QuerySpecSchema.parse(spec), { propertyTimezone: "UTC", createdAt: 0, now, goals: [] });
}

/**
 * The statements workers/query/run.ts issues for one query (the main one and its comparison), and
 * the normalised query its response echoes as `query`.
 */
function queryStatements(name: string, spec: QuerySpecInput, now: number): { statements: Statement[]; echo: unknown } {
  const q = resolve(spec, now);
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
  // workers/query/reports.ts baseSpec and breakdown(), with the report's default limit of 10.
  const base: QuerySpecInput = { property_id: PROPERTY, metrics: ["visitors"], date_range: [start, end], filters: [] };
  const top = (name: Breakdown) =>
    queryStatements(
      name,
      {
        ...base,
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
  const pages = top("pages");
  const filtered = queryStatements("filtered", { ...base, ...FILTERED }, now);
  const q = resolve(base, now);
  const funnel = buildFunnelSql({
    property_id: PROPERTY,
    from_ms: q.from,
    to_ms: q.to,
    include_bots: false,
    spec: { steps: [...FUNNEL_STEPS], window_seconds: 86_400 },
  });
  return [
    // reports.ts echoes the totals' query as the overview's `query`.
    { name: "overview", request: report("report=overview"), statements: overview, echo: totals.echo },
    { name: "pages", request: report("report=pages"), ...pages },
    {
      name: "3 filters × day",
      request: (b) =>
        new Request(`${b}/api/v1/query`, {
          method: "POST",
          headers: { ...auth, "Content-Type": "application/json" },
          body: JSON.stringify({ ...base, ...FILTERED }),
        }),
      ...filtered,
    },
    {
      name: "funnel, 3 steps",
      request: report(`report=funnel&steps=${encodeURIComponent(JSON.stringify(FUNNEL_STEPS))}`),
      statements: [{ name: "funnel", sql: funnel.sql, params: funnel.params, plan: "events (funnel SQL)" }],
    },
  ];
}
