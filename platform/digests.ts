/**
 * Sending one scheduled digest: the property's overview for the period (visitors, visits,
 * pageviews, bounce rate, visit duration, against the period before; top 5 pages and sources),
 * asked through the query pipeline's one executor, rendered (core/digest/render.ts), and sent by
 * email (platform/smtp.ts, with a one-click unsubscribe link) or to a Slack-compatible webhook;
 * then recorded on the digest (`markDigest`). Shared by the "send now" route and the hourly Cron.
 *
 * The executor (workers/query/run.ts `runQuery`) is handed in: platform/ sits below the routes and
 * the consumers, so it cannot import it; the routes pass it directly, the Cron through workers/main.ts.
 */
import type { DigestPeriod } from "../core/digest/period.ts";
import { type DigestContent, type DigestMetrics, renderEmail, renderSlack } from "../core/digest/render.ts";
import { signUnsubscribe, unsubscribeKey, unsubscribeUrl } from "../core/digest/unsubscribe.ts";
import { AppError } from "../core/errors.ts";
import type { ResultRow } from "../core/query/shape.ts";
import { type QuerySpec, type QuerySpecInput, QuerySpecSchema } from "../core/query/spec.ts";
import type { Digest } from "../core/team/schemas.ts";
import { loadConfig } from "./config.ts";
import { propertyConfig } from "./properties.ts";
import { sendMail } from "./smtp.ts";
import { teamStub } from "./team.ts";

/** The query pipeline's executor: `runQuery` from workers/query/run.ts fits. */
export type RunQuery = (env: Env, spec: QuerySpec, now: number) => Promise<{ results: ResultRow[] }>;

export interface DigestSender {
  env: Env;
  runQuery: RunQuery;
  /** The clock the periods and the queries are read at (the Cron's scheduled time). */
  now: number;
  /** Where links point when PUBLIC_URL is empty: the request's origin; undefined from the Cron. */
  origin?: string;
}

const WEBHOOK_TIMEOUT_MS = 10_000;
const TOP = 5;

const OVERVIEW = ["visitors", "visits", "pageviews", "bounce_rate", "avg_session_duration"] as const;

async function overviewMetrics(s: DigestSender, propertyId: string, from: string, to: string): Promise<DigestMetrics> {
  const spec: QuerySpecInput = { property_id: propertyId, metrics: [...OVERVIEW], date_range: [from, to] };
  const [row] = (await s.runQuery(s.env, QuerySpecSchema.parse(spec), s.now)).results;
  const m = row?.metrics ?? [];
  return {
    visitors: m[0] ?? 0,
    visits: m[1] ?? 0,
    pageviews: m[2] ?? 0,
    bounce_rate: m[3] ?? 0,
    visit_duration: m[4] ?? 0,
  };
}

async function top(s: DigestSender, propertyId: string, dimension: "event:page" | "visit:source", p: DigestPeriod) {
  const spec: QuerySpecInput = {
    property_id: propertyId,
    metrics: ["visitors"],
    dimensions: [dimension],
    date_range: [p.from, p.to],
    order_by: [["visitors", "desc"]],
    limit: TOP,
  };
  const { results } = await s.runQuery(s.env, QuerySpecSchema.parse(spec), s.now);
  // Empty values as the dashboard names them (web/dashboard/src/format.ts displayValue).
  const empty = dimension === "visit:source" ? "Direct / none" : "(not set)";
  return results.map((r) => ({ name: String(r.dimensions[0] ?? "") || empty, visitors: r.metrics[0] ?? 0 }));
}

/** The deployment's address for links: PUBLIC_URL, else the request's origin, else none. */
export function linkOrigin(env: Env, origin?: string): string | undefined {
  return loadConfig(env).PUBLIC_URL || origin || undefined;
}

/** What the digest says: the numbers of the period and the one before, and the links. */
export async function digestContent(
  s: DigestSender,
  propertyId: string,
  digest: Digest,
  period: DigestPeriod,
): Promise<DigestContent> {
  const property = await propertyConfig(s.env, propertyId);
  if (!property) throw new AppError("property_not_found", 404, `property ${propertyId} does not exist`);
  const origin = linkOrigin(s.env, s.origin);
  const [current, previous, pages, sources] = await Promise.all([
    overviewMetrics(s, propertyId, period.from, period.to),
    overviewMetrics(s, propertyId, period.previous.from, period.previous.to),
    top(s, propertyId, "event:page", period),
    top(s, propertyId, "visit:source", period),
  ]);
  const dashboard = origin && new URL("/", origin);
  if (dashboard) {
    const q = { property: propertyId, view: "overview", range: "custom", from: period.from, to: period.to };
    dashboard.search = new URLSearchParams(q).toString();
  }
  return {
    property_id: propertyId,
    property_name: property.name,
    frequency: digest.frequency,
    period: period.name,
    from: period.from,
    to: period.to,
    previous_from: period.previous.from,
    previous_to: period.previous.to,
    current,
    previous,
    top_pages: pages,
    top_sources: sources,
    dashboard_url: dashboard ? dashboard.toString() : undefined,
    unsubscribe_url: digest.channel === "email" ? await unsubscribeLink(s.env, propertyId, digest, origin) : undefined,
  };
}

async function unsubscribeLink(env: Env, propertyId: string, digest: Digest, origin: string | undefined) {
  // Every email carries a working unsubscribe link, so without an address for it no email goes out.
  if (!origin)
    throw new AppError(
      "public_url_not_configured",
      409,
      "PUBLIC_URL is not set: an email digest sent by the schedule needs it for its unsubscribe link",
    );
  const key = await unsubscribeKey(loadConfig(env));
  if (!key) throw new AppError("misconfigured", 500, "ADMIN_TOKEN is empty: unsubscribe links cannot be signed");
  return unsubscribeUrl(origin, propertyId, digest.id, await signUnsubscribe(key, propertyId, digest.id));
}

async function postWebhook(url: string, body: unknown): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      redirect: "manual",
    });
  } catch (error) {
    const why = error instanceof Error && error.name === "TimeoutError" ? `no answer within 10 s` : String(error);
    throw new AppError("delivery_failed", 502, `webhook: ${why}`, { cause: error });
  }
  const text = (await res.text().catch(() => "")).slice(0, 200);
  if (!res.ok) throw new AppError("delivery_failed", 502, `webhook: ${res.status} ${text}`.trim());
}

/** Renders and sends one digest for one period; throws an AppError (`delivery_failed` …) when it does not go out. */
export async function sendDigest(
  s: DigestSender,
  propertyId: string,
  digest: Digest,
  period: DigestPeriod,
): Promise<void> {
  const config = loadConfig(s.env);
  if (digest.channel === "email" && !config.SMTP_URL)
    throw new AppError("smtp_not_configured", 409, "SMTP_URL is not set: email digests cannot be sent");
  const content = await digestContent(s, propertyId, digest, period);
  if (digest.channel === "slack") return postWebhook(digest.target, renderSlack(content));
  const email = renderEmail(content);
  await sendMail(
    config.SMTP_URL,
    {
      from: config.MAIL_FROM,
      to: digest.target,
      ...email,
      headers: {
        "List-Unsubscribe": `<${content.unsubscribe_url}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    },
    { now: s.now },
  );
}

/**
 * Sends and records the outcome on the digest: the period as sent, or the error (the period stays
 * due, so the next run tries again). Returns the error as an AppError (anything unexpected as a
 * 502 `delivery_failed`), or null when the digest went out.
 */
export async function deliverDigest(
  s: DigestSender,
  propertyId: string,
  digest: Digest,
  period: DigestPeriod,
): Promise<AppError | null> {
  let error: AppError | null = null;
  try {
    await sendDigest(s, propertyId, digest, period);
  } catch (e) {
    error = e instanceof AppError ? e : new AppError("delivery_failed", 502, String(e), { cause: e });
  }
  await teamStub(s.env, propertyId).markDigest(digest.id, period.name, error?.message ?? null, Date.now());
  return error;
}
