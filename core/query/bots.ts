/**
 * The bot audit (`GET /api/v1/bots`): its parameters, its SQL and the shape of its answer. Values are
 * parameters only. With `reclassify`, today's rules are applied to stored signals (user agent, ASN):
 * rules added after ingestion reach old traffic, and verdicts that only the edge could make (crawler
 * lists, Cloudflare scores, velocity) are kept as stored. Pure; workers/query/bots.ts runs it.
 */
import { z } from "zod";
import { toClickHouseDateTime } from "../clickhouse-row.ts";
import { DATACENTER_ASNS, HEADLESS_PATTERN } from "../enrich/bot.ts";
import { AppError } from "../errors.ts";
import { DAY_MS } from "../time.ts";

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date such as 2026-11-01", abort: true })
  .refine((d) => !Number.isNaN(Date.parse(d)), "is not a valid date");

/** The query string of `GET /api/v1/bots`. */
export const BotsQuerySchema = z.strictObject({
  property: z.string().min(1),
  from: Day.optional(),
  to: Day.optional(),
  reclassify: z.enum(["true", "false"]).default("false"),
  samples: z.coerce.number().int().min(0).max(100).default(20),
});
export type BotsQuery = z.infer<typeof BotsQuerySchema>;

/**
 * The longest audit, in days: the dashboard's "All time" (3,651 days) and no more. What one audit
 * costs is bounded by the per-statement limits (QUERY_MAX_*) and its two quota units; this bounds
 * the range a request can name at all, with the end no later than tomorrow.
 */
export const MAX_BOTS_DAYS = 3660;

/**
 * The audited range: whole UTC days `from`..`to` inclusive; by default the last 7 days up to now.
 * At most MAX_BOTS_DAYS long and not ending after tomorrow.
 */
export function botsRange(q: BotsQuery, now: number): { from: number; to: number } {
  const to = q.to ? Date.parse(q.to) + DAY_MS : now;
  const from = q.from ? Date.parse(q.from) : to - 7 * DAY_MS;
  if (from >= to) throw new AppError("invalid_request", 400, "from: must be before to");
  if (to > now + 2 * DAY_MS) throw new AppError("invalid_request", 400, "to: must not be after tomorrow");
  if (to - from > MAX_BOTS_DAYS * DAY_MS)
    throw new AppError("invalid_request", 400, `from: the audit spans at most ${MAX_BOTS_DAYS} days; move from or to`);
  return { from, to };
}

const STORED = "bot_reason";
// Events older than RAW_USER_AGENT_DAYS have no raw user agent left (#17): the user-agent rules
// cannot be re-applied to them, so they keep the verdict the edge stored.
const RECLASSIFIED = `multiIf(
  bot_reason IN ('cf_verified_bot', 'ua_crawler', 'cf_bot_management', 'velocity'), bot_reason,
  event_timestamp < {rawUaSince:DateTime64(3, 'UTC')} AND bot_reason != '', bot_reason,
  event_timestamp >= {rawUaSince:DateTime64(3, 'UTC')} AND source_protocol != 'import' AND user_agent = '', 'no_user_agent',
  event_timestamp >= {rawUaSince:DateTime64(3, 'UTC')} AND match(user_agent, {headless:String}), 'headless',
  has({asns:Array(UInt32)}, asn), 'datacenter_asn',
  '')`;

const WHERE =
  "property_id = {property:String} AND event_timestamp >= {from:DateTime64(3, 'UTC')} AND event_timestamp < {to:DateTime64(3, 'UTC')}";

export function byReasonSql(reclassify: boolean): string {
  return `SELECT ${reclassify ? RECLASSIFIED : STORED} AS reason, count() AS events, uniq(client_id) AS visitors
    FROM events WHERE ${WHERE} GROUP BY reason ORDER BY events DESC`;
}

export function samplesSql(reclassify: boolean): string {
  return `SELECT toString(ts) AS event_timestamp, reason, user_agent, page_url, country, asn FROM (
      SELECT event_timestamp AS ts, ${reclassify ? RECLASSIFIED : STORED} AS reason, user_agent, page_url, country, asn
      FROM events WHERE ${WHERE}
    ) WHERE reason != '' ORDER BY ts DESC LIMIT {limit:UInt32}`;
}

export function ruleParams(): { headless: string; asns: number[] } {
  return { headless: HEADLESS_PATTERN, asns: [...DATACENTER_ASNS] };
}

/**
 * The two statements of an audit: counts per reason, and the latest samples of bot traffic.
 * `rawUserAgentSince`: events before it hold no raw user agent (RAW_USER_AGENT_DAYS).
 */
export function buildBotsSql(q: BotsQuery, range: { from: number; to: number }, rawUserAgentSince: number) {
  const reclassify = q.reclassify === "true";
  const params = {
    property: q.property,
    from: toClickHouseDateTime(range.from),
    to: toClickHouseDateTime(range.to),
    rawUaSince: toClickHouseDateTime(rawUserAgentSince),
    limit: q.samples,
    ...ruleParams(),
  };
  return { byReason: { sql: byReasonSql(reclassify), params }, samples: { sql: samplesSql(reclassify), params } };
}

/** The audit's answer from the two statements' rows. */
export function shapeBots(
  q: BotsQuery,
  range: { from: number; to: number },
  reasons: readonly Record<string, unknown>[],
  samples: readonly Record<string, unknown>[],
) {
  const byReason = reasons.map((r) => ({
    reason: String(r.reason),
    events: Number(r.events),
    visitors: Number(r.visitors),
  }));
  const total = byReason.reduce((n, r) => n + r.events, 0);
  const human = byReason.find((r) => r.reason === "")?.events ?? 0;
  return {
    property_id: q.property,
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    reclassified: q.reclassify === "true",
    total_events: total,
    human_events: human,
    bot_events: total - human,
    by_reason: byReason.filter((r) => r.reason !== ""),
    samples,
  };
}
