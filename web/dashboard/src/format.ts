/**
 * Words and numbers: what each metric and dimension is called, how a value is written, country
 * names (the browser's own Intl tables: no data shipped) and bot reasons.
 */
import type { Dimension, Metric } from "../../../core/query/spec.ts";

/** The query language's metrics, in the order the dashboard offers them (test/unit/dashboard-contract.test.ts holds it to core). */
export const METRIC_LABELS: Record<Metric, string> = {
  visitors: "Visitors",
  visits: "Visits",
  pageviews: "Pageviews",
  events: "Events",
  bounce_rate: "Bounce rate",
  avg_session_duration: "Visit duration",
  views_per_visit: "Views per visit",
  conversion_rate: "Conversion rate",
  group_conversion_rate: "Group conversion rate",
  percentage: "Share of visitors",
  exit_rate: "Exit rate",
  time_on_page: "Time on page",
  scroll_depth: "Scroll depth",
  total_revenue: "Revenue",
  average_revenue: "Average revenue",
};
export const METRICS = Object.keys(METRIC_LABELS) as Metric[];
/** Amounts of money: written with the answer's `meta.currency` where there is one (formatMoney). */
export const REVENUE_METRICS: ReadonlySet<string> = new Set(["total_revenue", "average_revenue"]);
/** Metrics where a fall is good news (the change is coloured accordingly). */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(["bounce_rate"]);

type PlainDimension = Exclude<Dimension, `time:${string}` | `event:props:${string}`>;
export const DIMENSION_LABELS: Record<PlainDimension, string> = {
  "event:page": "Page",
  "event:name": "Event",
  "event:hostname": "Hostname",
  "visit:entry_page": "Entry page",
  "visit:exit_page": "Exit page",
  "visit:source": "Source",
  "visit:referrer": "Referrer",
  "visit:channel": "Channel",
  "visit:utm_source": "UTM source",
  "visit:utm_medium": "UTM medium",
  "visit:utm_campaign": "UTM campaign",
  "visit:utm_term": "UTM term",
  "visit:utm_content": "UTM content",
  "visit:device": "Device",
  "visit:browser": "Browser",
  "visit:browser_version": "Browser version",
  "visit:os": "Operating system",
  "visit:os_version": "OS version",
  "visit:country": "Country",
  "visit:region": "Region",
  "visit:city": "City",
  "visit:language": "Language",
  "visit:screen": "Screen size",
  "visit:visitor_type": "Visitor type",
};
export const PLAIN_DIMENSIONS = Object.keys(DIMENSION_LABELS) as PlainDimension[];
export const TIME_DIMENSION_LABELS = {
  "time:minute": "Minute",
  "time:hour": "Hour",
  "time:day": "Day",
  "time:week": "Week",
  "time:month": "Month",
} as const;

export function dimensionLabel(d: string): string {
  if (d === "event:goal") return "Goal";
  if (d.startsWith("event:props:")) return `Property “${d.slice("event:props:".length)}”`;
  return DIMENSION_LABELS[d as PlainDimension] ?? TIME_DIMENSION_LABELS[d as keyof typeof TIME_DIMENSION_LABELS] ?? d;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const amount = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** A metric's value as a person reads it (rates are fractions in the API). */
export function formatMetric(metric: string, value: number | undefined | null, short = false): string {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  // The API answers 0 for a page no engagement event reported on: nothing measured, not 0 seconds.
  if (value === 0 && (metric === "time_on_page" || metric === "scroll_depth")) return "–";
  switch (metric) {
    case "bounce_rate":
    case "conversion_rate":
    case "group_conversion_rate":
    case "exit_rate":
    case "percentage":
    case "drop_off_rate":
    case "retention":
      return percent.format(value);
    case "avg_session_duration":
    case "time_on_page":
      return duration(value);
    case "scroll_depth":
      // The API gives 0–100 (Plausible's unit), not a fraction like the rates.
      return percent.format(value / 100);
    case "views_per_visit":
      return decimal.format(value);
    case "total_revenue":
    case "average_revenue":
      return amount.format(value);
    default:
      return short && value >= 10_000 ? compact.format(value) : integer.format(value);
  }
}

const money = new Map<string, Intl.NumberFormat>();
/** An amount in a currency ("€1,234.50"); an unknown code is written after a plain number. */
export function formatMoney(value: number | undefined | null, currency: string): string {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  let format = money.get(currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      return `${decimal.format(value)} ${currency}`;
    }
    money.set(currency, format);
  }
  return format.format(value);
}

/** Relative change, or undefined when there is nothing to compare with. */
export function change(current: number, previous: number | undefined): number | undefined {
  if (previous === undefined || !Number.isFinite(previous)) return undefined;
  if (previous === 0) return current === 0 ? 0 : undefined;
  return (current - previous) / previous;
}

export function formatChange(c: number | undefined): string {
  if (c === undefined) return "new";
  const sign = c > 0 ? "+" : c < 0 ? "−" : "±";
  return `${sign}${percent.format(Math.abs(c))}`;
}

let regionNames: Intl.DisplayNames | undefined;
/** "DE" → "Germany", from the browser's own tables. */
export function countryName(code: string): string {
  if (!/^[A-Z]{2}$/i.test(code)) return code;
  try {
    regionNames ??= new Intl.DisplayNames(undefined, { type: "region" });
    return regionNames.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

const VISITOR_TYPES: Record<string, string> = { new: "New", returning: "Returning" };

/** How a dimension's value is shown (empty values have a meaning per dimension). */
export function displayValue(dimension: string, value: string): string {
  if (value === "") {
    if (dimension === "visit:source" || dimension === "visit:referrer") return "Direct / none";
    return "(not set)";
  }
  if (dimension === "visit:country") return countryName(value);
  if (dimension === "visit:visitor_type") return VISITOR_TYPES[value] ?? value;
  return value;
}

export const BOT_REASONS: Record<string, string> = {
  no_user_agent: "No user agent: the request did not say what sent it",
  cf_verified_bot: "A verified bot known to Cloudflare (search engines, monitors)",
  headless: "A headless or automated browser (HeadlessChrome, Puppeteer, Playwright, Selenium…)",
  ua_crawler: "A crawler by its user agent",
  cf_bot_management: "Cloudflare Bot Management scored it as automated",
  datacenter_asn: "Sent from a data centre network (cloud hosting), not a home or mobile network",
  velocity: "Too fast for a person: more than 120 events a minute from one visitor",
};

export const compactNumber = (n: number) => compact.format(n);
export const integerNumber = (n: number) => integer.format(n);
