/**
 * Reports: canned bundles over the query engine. Breakdowns, `overview` and `goals` are queries in
 * the query language (so they share its planner, rollups and cache); `funnel` and `retention` are
 * planned by the same rules and run by the same engine, with their own pure SQL builders.
 */
import { AppError } from "../../core/errors.ts";
import { dataStart } from "../../core/property/property.ts";
import { buildFunnelSql, shapeFunnel } from "../../core/query/funnel.ts";
import { normaliseQuery } from "../../core/query/normalise.ts";
import type { RawQuestion } from "../../core/query/plan.ts";
import { BREAKDOWNS, type Breakdown, OVERVIEW_METRICS, type ReportParams } from "../../core/query/report-spec.ts";
import { buildRetentionSql, shapeRetention } from "../../core/query/retention.ts";
import type { Dimension, QuerySpecInput } from "../../core/query/spec.ts";
import { buildWarehouseFunnelSql } from "../../core/query/warehouse-funnel.ts";
import { buildWarehouseRetentionSql } from "../../core/query/warehouse-retention.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import type { RawRun, RunOptions } from "./engine.ts";
import { cached, rawRunFor, withWarehouseLink } from "./engine.ts";
import { parseQuerySpec, type QueryResponse, runQuery } from "./run.ts";

type Cell = string | number;
export interface Report {
  body: Record<string, unknown>;
  /** The report as one table, for CSV. */
  table: { header: string[]; rows: Cell[][] };
}

/** `visit:entry_page` → `entry_page`: the row key a report uses for its dimension. */
const keyOf = (d: Dimension) => d.slice(d.lastIndexOf(":") + 1);

function baseSpec(p: ReportParams): QuerySpecInput {
  return {
    property_id: p.property,
    metrics: ["visitors"],
    date_range: p.start && p.end ? [p.start, p.end] : (p.date_range ?? "30d"),
    ...(p.timezone ? { timezone: p.timezone } : {}),
    filters: p.filters ?? [],
    include: { bots: p.bots === "true", total_rows: false },
  };
}

/** What a report runs with: the bindings, and waitUntil for its queries' cache writes. */
interface Run {
  env: Env;
  options: RunOptions;
}
const query = (x: Run, spec: QuerySpecInput) => runQuery(x.env, parseQuerySpec(spec), Date.now(), x.options);

function rowsOf(r: QueryResponse, keys: string[]): Record<string, Cell>[] {
  return r.results.map((row) =>
    Object.fromEntries([
      ...keys.map((k, i) => [k, row.dimensions[i] ?? ""]),
      ...r.query.metrics.map((m, i) => [m, row.metrics[i] ?? 0]),
    ]),
  );
}

const tableOf = (rows: Record<string, Cell>[], header: string[]) => ({
  header,
  rows: rows.map((r) => header.map((h) => r[h] ?? "")),
});

async function breakdown(x: Run, p: ReportParams, name: Breakdown, limit = p.limit): Promise<Report> {
  const { dimension, metrics } = BREAKDOWNS[name];
  const r = await query(x, {
    ...baseSpec(p),
    metrics: [...metrics],
    dimensions: [dimension],
    limit,
    offset: p.offset,
    include: { bots: p.bots === "true", total_rows: true },
    ...(p.compare ? { compare: p.compare } : {}),
  });
  const rows = rowsOf(r, [keyOf(dimension)]);
  const comparison = r.comparison ? rowsOf({ ...r, results: r.comparison }, [keyOf(dimension)]) : undefined;
  return {
    body: {
      report: name,
      rows,
      ...(comparison ? { comparison } : {}),
      total_rows: r.meta.total_rows ?? rows.length,
      meta: r.meta,
      query: r.query,
    },
    table: tableOf(rows, [keyOf(dimension), ...metrics]),
  };
}

async function overview(x: Run, p: ReportParams): Promise<Report> {
  const base = baseSpec(p);
  const top = (name: Breakdown) => breakdown(x, { ...p, compare: undefined, offset: 0 }, name, Math.min(p.limit, 10));
  const [totals, series, pages, sources, countries, devices] = await Promise.all([
    query(x, { ...base, metrics: OVERVIEW_METRICS, compare: p.compare ?? "previous_period" }),
    query(x, { ...base, metrics: ["visitors", "pageviews", "visits"], dimensions: ["time:day"], limit: 10_000 }),
    top("pages"),
    top("sources"),
    top("countries"),
    top("devices"),
  ]);
  const [figures] = rowsOf(totals, []);
  const [previous] = totals.comparison ? rowsOf({ ...totals, results: totals.comparison }, []) : [];
  const timeseries = rowsOf(series, ["date"]);
  return {
    body: {
      ...figures,
      timeseries,
      top_pages: pages.body.rows,
      top_sources: sources.body.rows,
      top_countries: countries.body.rows,
      top_devices: devices.body.rows,
      comparison: previous ?? null,
      meta: { ...totals.meta, cached: [totals, series].every((r) => r.meta.cached) },
      query: totals.query,
    },
    table: tableOf(timeseries, ["date", "visitors", "pageviews", "visits"]),
  };
}

async function goals(x: Run, p: ReportParams): Promise<Report> {
  const list = await propertyStub(x.env, p.property).goals();
  const rows: Record<string, Cell>[] = [];
  // A few at a time: every goal is one ClickHouse query.
  for (let i = 0; i < list.length; i += 8) {
    const answers = await Promise.all(
      list.slice(i, i + 8).map((g) =>
        query(x, {
          ...baseSpec(p),
          metrics: ["visitors", "events", "conversion_rate"],
          filters: [...(p.filters ?? []), ["is", "event:goal", [g.name]]],
        }),
      ),
    );
    for (const [j, a] of answers.entries()) rows.push({ goal: list[i + j]?.name ?? "", ...rowsOf(a, [])[0] });
  }
  rows.sort((a, b) => Number(b.visitors) - Number(a.visitors));
  return { body: { report: "goals", rows }, table: tableOf(rows, ["goal", "visitors", "events", "conversion_rate"]) };
}

/**
 * Funnel and retention: the date range resolved exactly as a query's would be, then planned like
 * every question (core/query/plan.ts), built by their own pure SQL builders — ClickHouse's, or the
 * warehouse's beyond the hot retention — and run by the engine.
 */
async function resolve(x: Run, p: ReportParams, now: number) {
  if (p.filters?.length) throw new AppError("invalid_query", 400, `filters: not supported by report=${p.report}`);
  const property = await propertyConfig(x.env, p.property);
  if (!property) throw new AppError("property_not_found", 404, `property ${p.property} does not exist`);
  return normaliseQuery(parseQuerySpec(baseSpec(p)), {
    propertyTimezone: property.timezone,
    createdAt: dataStart(property),
    now,
    goals: [],
  });
}

type Resolved = Awaited<ReturnType<typeof resolve>>;

/**
 * Plans the report, then answers it from the cache or `compute` (given the range it answers).
 * The range answered is in the key: a range cut at the warehouse's boundary moves as it loads.
 */
async function rawReport<T>(
  x: Run,
  p: ReportParams,
  now: number,
  kind: RawQuestion,
  compute: (run: RawRun, q: Resolved) => Promise<T>,
) {
  const q = await resolve(x, p, now);
  return withWarehouseLink(x.env, x.options, async (link) => {
    const run = await rawRunFor(x.env, p.property, kind, q, now, link, x.options.charge);
    const key = {
      property: p.property,
      question: { report: p, range: q.date_range, to: run.range.to },
      rangeEnd: q.to,
      now,
    };
    const { value } = await cached(x.env, key, x.options, () => compute(run, q));
    return { q, value, meta: { source: run.plan.source, plan: run.plan.reason } };
  });
}

async function funnel(x: Run, p: ReportParams, now: number): Promise<Report> {
  const spec = { steps: p.steps ?? [], window_seconds: p.window_seconds ?? 86_400 };
  const {
    q,
    value: result,
    meta,
  } = await rawReport(x, p, now, "funnel", async (run) => {
    const query = {
      property_id: p.property,
      from_ms: run.range.from,
      to_ms: run.range.to,
      include_bots: p.bots === "true",
      spec,
    };
    const rows = await run.rows({
      clickhouse: () => buildFunnelSql(query),
      warehouse: () => buildWarehouseFunnelSql(query),
    });
    return shapeFunnel(spec, rows);
  });
  return {
    body: { report: "funnel", ...result, window_seconds: spec.window_seconds, date_range: q.date_range, meta },
    table: tableOf(result.steps, ["step", "label", "visitors", "conversion_rate", "drop_off", "drop_off_rate"]),
  };
}

async function retention(x: Run, p: ReportParams, now: number): Promise<Report> {
  const weeks = p.weeks ?? 8;
  const {
    q,
    value: result,
    meta,
  } = await rawReport(x, p, now, "retention", async (run, resolved) => {
    const query = {
      property_id: p.property,
      from_ms: run.range.from,
      to_ms: run.range.to,
      include_bots: p.bots === "true",
      timezone: resolved.timezone,
      weeks,
    };
    const rows = await run.rows({
      clickhouse: () => buildRetentionSql(query),
      warehouse: () => buildWarehouseRetentionSql(query),
    });
    return shapeRetention(rows, weeks);
  });
  const header = ["cohort", "visitors", ...Array.from({ length: weeks + 1 }, (_, k) => `week_${k}`)];
  return {
    body: { report: "retention", ...result, date_range: q.date_range, meta },
    table: { header, rows: result.cohorts.map((c) => [c.cohort, c.visitors, ...c.retention]) },
  };
}

export function runReport(env: Env, p: ReportParams, now = Date.now(), options: RunOptions = {}): Promise<Report> {
  const x: Run = { env, options };
  switch (p.report) {
    case "overview":
      return overview(x, p);
    case "goals":
      return goals(x, p);
    case "funnel":
      return funnel(x, p, now);
    case "retention":
      return retention(x, p, now);
    default:
      return breakdown(x, p, p.report);
  }
}
