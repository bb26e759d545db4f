/**
 * The bot audit (core/query/bots.ts) from the warehouse: the same two statements — counts per
 * reason, and the latest samples of bot traffic — as portable SQL (PostgreSQL and Redshift), with
 * ClickHouse's row shapes, so `shapeBots` shapes both. Values only as parameters.
 *
 * Visitors per reason are exact here (COUNT DISTINCT); ClickHouse's `uniq` is exact too up to
 * 65 536 values per group, an estimate beyond.
 */
import { sql } from "kysely";
import type { BotsQuery } from "./bots.ts";
import { ruleParams } from "./bots.ts";
import { at, type CompiledQuery, compile, type Fragment } from "./warehouse-scope.ts";

/** Verdicts only the edge could make (crawler lists, Cloudflare scores, velocity): kept as stored. */
const EDGE_REASONS = ["cf_verified_bot", "ua_crawler", "cf_bot_management", "velocity"];

/**
 * ClickHouse's `multiIf` of today's rules. The headless pattern is RE2 with a leading `(?i)`:
 * POSIX `~*` is its case-insensitive match on both engines, so the flag is dropped.
 */
function reclassified(rawUserAgentSince: number): Fragment {
  const { headless, asns } = ruleParams();
  const hasRawUa = sql`event_timestamp >= ${at(rawUserAgentSince)}`;
  return sql`CASE
    WHEN bot_reason IN (${sql.join(EDGE_REASONS)}) THEN bot_reason
    WHEN NOT (${hasRawUa}) AND bot_reason <> '' THEN bot_reason
    WHEN ${hasRawUa} AND source_protocol <> ${"import"} AND user_agent = '' THEN ${"no_user_agent"}
    WHEN ${hasRawUa} AND user_agent ~* ${headless.replace(/^\(\?i\)/, "")} THEN ${"headless"}
    WHEN asn IN (${sql.join(asns)}) THEN ${"datacenter_asn"}
    ELSE '' END`;
}

export interface WarehouseBotsSql {
  byReason: CompiledQuery;
  samples: CompiledQuery;
}

/** The two statements of an audit over [from, to), as `buildBotsSql`'s. */
export function buildWarehouseBotsSql(
  q: BotsQuery,
  range: { from: number; to: number },
  rawUserAgentSince: number,
): WarehouseBotsSql {
  const reason = q.reclassify === "true" ? reclassified(rawUserAgentSince) : sql`bot_reason`;
  const where = sql`property_id = ${q.property} AND event_timestamp >= ${at(range.from)} AND event_timestamp < ${at(range.to)}`;
  const byReason = sql`SELECT reason, COUNT(*) AS events, COUNT(DISTINCT client_id) AS visitors
    FROM (SELECT ${reason} AS reason, client_id FROM events WHERE ${where}) r
    GROUP BY reason ORDER BY events DESC`;
  // The time as ClickHouse's toString(DateTime64(3)) writes it.
  const samples = sql`SELECT TO_CHAR(ts, 'YYYY-MM-DD HH24:MI:SS.MS') AS event_timestamp, reason, user_agent, page_url, country, asn
    FROM (SELECT event_timestamp AS ts, ${reason} AS reason, user_agent, page_url, country, asn FROM events WHERE ${where}) s
    WHERE reason <> '' ORDER BY ts DESC LIMIT ${q.samples}`;
  return { byReason: compile(byReason), samples: compile(samples) };
}
