/**
 * A digest's words: the overview of one period as an email (subject, plain text, HTML) and as a
 * Slack-compatible incoming-webhook payload (mrkdwn blocks). Pure: the numbers come in a
 * DigestContent, already queried; every string from the data (page paths, sources, the property's
 * name) is escaped for the format it lands in.
 */
import { z } from "zod";

const MetricsSchema = z.object({
  visitors: z.number(),
  visits: z.number(),
  pageviews: z.number(),
  /** A fraction, 0–1, as the query API answers it. */
  bounce_rate: z.number(),
  /** Seconds per visit. */
  visit_duration: z.number(),
});
export type DigestMetrics = z.infer<typeof MetricsSchema>;

const RankedSchema = z.array(z.object({ name: z.string(), visitors: z.number() })).max(5);

export const DigestContentSchema = z.object({
  property_id: z.string(),
  property_name: z.string(),
  frequency: z.enum(["weekly", "monthly"]),
  /** The period's name, `2026-W48` or `2026-11`. */
  period: z.string(),
  from: z.string(),
  to: z.string(),
  /** The period compared with. */
  previous_from: z.string(),
  previous_to: z.string(),
  current: MetricsSchema,
  previous: MetricsSchema,
  top_pages: RankedSchema,
  top_sources: RankedSchema,
  /** The property's dashboard; undefined when the deployment's address is not known (a Cron run without PUBLIC_URL). */
  dashboard_url: z.url().optional(),
  /** Email only: the one-click unsubscribe link. */
  unsubscribe_url: z.url().optional(),
});
export type DigestContent = z.infer<typeof DigestContentSchema>;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface SlackPayload {
  text: string;
  blocks: Record<string, unknown>[];
}

const METRIC_ROWS: { key: keyof DigestMetrics; label: string }[] = [
  { key: "visitors", label: "Visitors" },
  { key: "visits", label: "Visits" },
  { key: "pageviews", label: "Pageviews" },
  { key: "bounce_rate", label: "Bounce rate" },
  { key: "visit_duration", label: "Visit duration" },
];

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const MINUS = "\u2212";

/** `12m 05s`, `45s`, `1h 02m`: as the dashboard shows durations. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export function formatValue(key: keyof DigestMetrics, value: number): string {
  if (key === "bounce_rate") return `${Math.round(value * 100)}%`;
  if (key === "visit_duration") return formatDuration(value);
  return integer.format(value);
}

/**
 * The change from the previous period: `+12%`, `−3%`, `0%`; a rate changes by points (`+4 pts`),
 * since a relative change of a percentage reads as nonsense; from nothing it is `new`.
 */
export function formatChange(key: keyof DigestMetrics, current: number, previous: number): string {
  const signed = (n: number, unit: string) => `${n > 0 ? "+" : n < 0 ? MINUS : ""}${Math.abs(n)}${unit}`;
  if (key === "bounce_rate") return signed(Math.round((current - previous) * 100), " pts");
  if (previous === 0) return current === 0 ? "0%" : "new";
  return signed(Math.round(((current - previous) / previous) * 100), "%");
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
function readableDate(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  return `${d} ${MONTHS[(m ?? 1) - 1]} ${y}`;
}

/** `23 Nov 2026 – 29 Nov 2026` */
const rangeText = (c: DigestContent) => `${readableDate(c.from)} \u2013 ${readableDate(c.to)}`;
const title = (c: DigestContent) => `${c.frequency === "weekly" ? "Weekly" : "Monthly"} report`;

function rows(c: DigestContent) {
  return METRIC_ROWS.map(({ key, label }) => ({
    label,
    value: formatValue(key, c.current[key]),
    change: formatChange(key, c.current[key], c.previous[key]),
  }));
}

/** Removes line breaks and other control characters: the subject is one header line. */
const oneLine = (s: string) => s.replace(/[\p{Cc}\u2028\u2029]+/gu, " ").trim();

export function renderEmail(c: DigestContent): RenderedEmail {
  const subject = oneLine(`${c.property_name}: ${title(c).toLowerCase()}, ${rangeText(c)}`);
  return { subject, text: renderText(c), html: renderHtml(c) };
}

function renderText(c: DigestContent): string {
  const metrics = rows(c);
  const labelWidth = Math.max(...metrics.map((r) => r.label.length)) + 2;
  const valueWidth = Math.max(...metrics.map((r) => r.value.length)) + 2;
  const ranked = (heading: string, list: DigestContent["top_pages"]) => [
    heading,
    ...(list.length === 0
      ? ["  (none)"]
      : list.map((r) => `  ${integer.format(r.visitors).padStart(7)}  ${oneLine(r.name) || "(none)"}`)),
    "",
  ];
  return [
    `${oneLine(c.property_name)} (${c.property_id}): ${title(c).toLowerCase()}`,
    `${rangeText(c)}, compared with ${readableDate(c.previous_from)} \u2013 ${readableDate(c.previous_to)}`,
    "",
    ...metrics.map((r) => `${r.label.padEnd(labelWidth)}${r.value.padStart(valueWidth)}   ${r.change}`),
    "",
    ...ranked("Top pages (visitors)", c.top_pages),
    ...ranked("Top sources (visitors)", c.top_sources),
    ...(c.dashboard_url ? [`Dashboard: ${c.dashboard_url}`] : []),
    ...(c.unsubscribe_url ? [`Unsubscribe: ${c.unsubscribe_url}`] : []),
  ]
    .join("\n")
    .trimEnd()
    .concat("\n");
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Text into HTML, element content or a quoted attribute alike. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

const CELL = 'style="padding:4px 12px 4px 0;text-align:left"';
const NUMBER = 'style="padding:4px 12px 4px 0;text-align:right"';

function renderHtml(c: DigestContent): string {
  const e = escapeHtml;
  const metricRows = rows(c)
    .map(
      (r) =>
        `<tr><td ${CELL}>${e(r.label)}</td><td ${NUMBER}><b>${e(r.value)}</b></td><td ${NUMBER}>${e(r.change)}</td></tr>`,
    )
    .join("");
  const ranked = (heading: string, list: DigestContent["top_pages"]) =>
    `<h3 style="margin:20px 0 4px">${e(heading)}</h3>` +
    (list.length === 0
      ? "<p>(none)</p>"
      : `<table cellspacing="0">${list
          .map(
            (r) =>
              `<tr><td ${NUMBER}>${e(integer.format(r.visitors))}</td><td ${CELL}>${e(r.name || "(none)")}</td></tr>`,
          )
          .join("")}</table>`);
  const link = (href: string, text: string) => `<a href="${e(href)}">${e(text)}</a>`;
  return [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<title>${e(oneLine(c.property_name))}: ${e(title(c).toLowerCase())}</title></head>`,
    '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2328;line-height:1.4">',
    `<h2 style="margin:0 0 4px">${e(oneLine(c.property_name))} &middot; ${e(title(c))}</h2>`,
    `<p style="margin:0 0 16px;color:#59636e">${e(rangeText(c))}, compared with ${e(readableDate(c.previous_from))} &ndash; ${e(readableDate(c.previous_to))}</p>`,
    `<table cellspacing="0">${metricRows}</table>`,
    ranked("Top pages (visitors)", c.top_pages),
    ranked("Top sources (visitors)", c.top_sources),
    c.dashboard_url ? `<p style="margin-top:20px">${link(c.dashboard_url, "Open the dashboard")}</p>` : "",
    c.unsubscribe_url
      ? `<p style="margin-top:24px;font-size:12px;color:#59636e">You receive this because someone subscribed this address to ${e(c.property_id)}'s ${e(c.frequency)} report. ${link(c.unsubscribe_url, "Unsubscribe")}</p>`
      : "",
    "</body></html>",
  ].join("\n");
}

/** Slack's mrkdwn treats only these three as markup in text; links are `<url|label>`. */
export const escapeMrkdwn = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderSlack(c: DigestContent): SlackPayload {
  const m = escapeMrkdwn;
  const name = oneLine(c.property_name);
  const heading = `${name}: ${title(c).toLowerCase()}, ${rangeText(c)}`;
  const ranked = (heading: string, list: DigestContent["top_pages"]) =>
    `*${heading}*\n${
      list.length === 0
        ? "(none)"
        : list.map((r) => `${integer.format(r.visitors)}  ${m(oneLine(r.name) || "(none)")}`).join("\n")
    }`;
  const blocks: Record<string, unknown>[] = [
    // Header blocks take plain text of at most 150 characters.
    { type: "header", text: { type: "plain_text", text: heading.slice(0, 150) } },
    {
      type: "section",
      fields: rows(c).map((r) => ({ type: "mrkdwn", text: `*${r.label}*\n${m(r.value)} (${m(r.change)})` })),
    },
    { type: "section", text: { type: "mrkdwn", text: ranked("Top pages", c.top_pages) } },
    { type: "section", text: { type: "mrkdwn", text: ranked("Top sources", c.top_sources) } },
  ];
  const context = [
    `${m(c.property_id)} \u00b7 compared with ${readableDate(c.previous_from)} \u2013 ${readableDate(c.previous_to)}`,
    ...(c.dashboard_url ? [`<${m(c.dashboard_url)}|Open the dashboard>`] : []),
  ];
  blocks.push({ type: "context", elements: context.map((text) => ({ type: "mrkdwn", text })) });
  const visitors = rows(c)[0];
  return { text: m(`${heading}: ${visitors?.value} visitors (${visitors?.change})`), blocks };
}
