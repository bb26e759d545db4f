/**
 * Reports: canned bundles of queries in the query language (`GET /api/v1/reports`). Each
 * breakdown report is one dimension and its usual metrics; `overview`, `goals`, `funnel` and
 * `retention` are composed by workers/query/reports.ts.
 */
import { z } from "zod";
import { PROPERTY_ID_PATTERN } from "../event.ts";
import { FunnelStepSchema } from "./funnel.ts";
import { DATE_PRESETS, type Dimension, type Metric } from "./spec.ts";

/** The figures of the overview report (and its comparison). */
export const OVERVIEW_METRICS: Metric[] = [
  "visitors",
  "visits",
  "pageviews",
  "bounce_rate",
  "avg_session_duration",
  "views_per_visit",
];

/** A breakdown report: one dimension, its metrics (the first orders the rows). */
export const BREAKDOWNS = {
  pages: { dimension: "event:page", metrics: ["visitors", "pageviews"] },
  entry_pages: {
    dimension: "visit:entry_page",
    metrics: ["visitors", "visits", "bounce_rate", "avg_session_duration"],
  },
  exit_pages: { dimension: "visit:exit_page", metrics: ["visitors", "visits"] },
  sources: { dimension: "visit:source", metrics: ["visitors", "visits", "bounce_rate", "avg_session_duration"] },
  channels: { dimension: "visit:channel", metrics: ["visitors", "visits", "bounce_rate", "avg_session_duration"] },
  campaigns: { dimension: "visit:utm_campaign", metrics: ["visitors", "visits", "bounce_rate"] },
  devices: { dimension: "visit:device", metrics: ["visitors", "visits", "bounce_rate"] },
  browsers: { dimension: "visit:browser", metrics: ["visitors", "visits"] },
  os: { dimension: "visit:os", metrics: ["visitors", "visits"] },
  countries: { dimension: "visit:country", metrics: ["visitors", "visits"] },
  regions: { dimension: "visit:region", metrics: ["visitors", "visits"] },
  cities: { dimension: "visit:city", metrics: ["visitors", "visits"] },
  languages: { dimension: "visit:language", metrics: ["visitors", "visits"] },
  events: { dimension: "event:name", metrics: ["visitors", "events"] },
} as const satisfies Record<string, { dimension: Dimension; metrics: readonly Metric[] }>;
export type Breakdown = keyof typeof BREAKDOWNS;

export const REPORTS = [
  "overview",
  ...(Object.keys(BREAKDOWNS) as Breakdown[]),
  "goals",
  "funnel",
  "retention",
] as const;
export type ReportName = (typeof REPORTS)[number];

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const json = <S extends z.ZodType>(schema: S, example: string) =>
  z.string().transform((text, ctx): z.infer<S> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: `must be URL-encoded JSON, e.g. ${example}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const i of parsed.error.issues) ctx.addIssue({ code: "custom", path: i.path, message: i.message });
    return z.NEVER;
  });

/** The query string of `GET /api/v1/reports`. */
export const ReportParamsSchema = z
  .strictObject({
    property: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug"),
    report: z.enum(REPORTS, { error: `must be one of: ${REPORTS.join(", ")}` }),
    start: z.string().regex(DATE, "must be a date such as 2026-11-01").optional(),
    end: z.string().regex(DATE, "must be a date such as 2026-11-07").optional(),
    date_range: z.enum(DATE_PRESETS, { error: `must be one of: ${DATE_PRESETS.join(", ")}` }).optional(),
    timezone: z.string().max(64).optional(),
    /** Filters in the query language, as URL-encoded JSON. */
    filters: json(z.array(z.unknown()).max(50), '[["is","visit:device",["mobile"]]]').optional(),
    compare: z.enum(["previous_period", "year_over_year"]).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(10),
    offset: z.coerce.number().int().min(0).default(0),
    bots: z.enum(["true", "false"]).default("false"),
    format: z.enum(["json", "csv"]).optional(),
    /** funnel: the ordered steps, URL-encoded JSON. */
    steps: json(
      z.array(FunnelStepSchema).min(2).max(8),
      '[{"kind":"page","value":"/"},{"kind":"event","value":"signup"}]',
    ).optional(),
    window_seconds: z.coerce.number().int().min(1).max(7_776_000).optional(),
    /** retention: how many later weeks to report. */
    weeks: z.coerce.number().int().min(1).max(26).optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.start === undefined) !== (p.end === undefined))
      ctx.addIssue({ code: "custom", path: [p.start ? "end" : "start"], message: "start and end go together" });
    if (p.start && p.date_range)
      ctx.addIssue({ code: "custom", path: ["date_range"], message: "give either start/end or date_range, not both" });
    if (p.report === "funnel" && !p.steps)
      ctx.addIssue({ code: "custom", path: ["steps"], message: "is required for report=funnel" });
  });
export type ReportParams = z.infer<typeof ReportParamsSchema>;
