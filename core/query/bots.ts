/**
 * The bot report's SQL. Values are parameters only. With `reclassify`, today's rules are applied
 * to stored signals (user agent, ASN): rules added after ingestion reach old traffic, and verdicts
 * that only the edge could make (crawler lists, Cloudflare scores, velocity) are kept as stored.
 */
import { DATACENTER_ASNS, HEADLESS_PATTERN } from "../enrich/bot.ts";

const STORED = "bot_reason";
const RECLASSIFIED = `multiIf(
  bot_reason IN ('cf_verified_bot', 'ua_crawler', 'cf_bot_management', 'velocity'), bot_reason,
  source_protocol != 'import' AND user_agent = '', 'no_user_agent',
  match(user_agent, {headless:String}), 'headless',
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
