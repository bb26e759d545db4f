/**
 * The generator's SQL (bench/generate-events.ts runs it): the traffic model of
 * bench/generate-model.ts turned into `INSERT … SELECT … FROM numbers(…)` statements that make
 * sessions and their events server-side, and the statement that computes one `session_log` row per
 * session from the stored events.
 */

import { DAY_MS, HOUR_MS } from "../core/time.ts";
import type { Tables } from "./generate-model.ts";

/** Geometric session lengths, P(L = k) = (1 − p) p^(k−1): mean 1 / (1 − p) ≈ 2.6 before the cap. */
const LENGTH_P = 0.62;
const MAX_SESSION_EVENTS = 30;
/** Gaps between a session's events: 10 s to 5 min (humans), 1–5 s (bots); a session spans < 3 h. */
export const MAX_SESSION_SPAN_MS = MAX_SESSION_EVENTS * 300_000;
const BOT_SHARE = 0.03;
/** Sessions by a first-time visitor; the rest come from the returning pool. */
const NEW_VISITOR_SHARE = 0.55;
const RETURNING_SKEW = 1.7;

// ---------------------------------------------------------------------------------------------
// SQL. `u(...)` is a uniform draw in [0, 1) from a hash of the seed and its arguments.

const u = (...keys: (string | number)[]) => `(cityHash64({seed:UInt64}, ${keys.join(", ")}) / 18446744073709551616.0)`;
/** 1-based index of the first cumulative share above the draw. */
const pick = (t: Tables, cum: string, draw: string) => `arrayFirstIndex(x -> x > ${draw}, ${t[cum]})`;
export const sessionLength = `least(${MAX_SESSION_EVENTS}, 1 + toUInt32(floor(log(1 - ${u("s", 1)}) / log(${LENGTH_P}))))`;

/** One row per session: who, when, from where, on what, and its events' time offsets. */
function sessionsSql(t: Tables): string {
  const col = (name: string, idx: string) => `${t[name]}[${idx}]`;
  return `
    SELECT
      number AS s,
      if(s = {last_session:UInt64}, {last_length:UInt32}, ${sessionLength}) AS len,
      ${u("s", 2)} < ${BOT_SHARE} AS bot,
      multiIf(bot, concat('b', toString(toUInt32(${u("s", 3)} * 2000))),
              ${u("s", 4)} < ${NEW_VISITOR_SHARE}, concat('n', toString(s)),
              concat('r', toString(toUInt64(floor({returning_pool:UInt64} * pow(${u("s", 5)}, ${RETURNING_SKEW})))))) AS vid,
      UUIDNumToString(MD5(concat(toString({seed:UInt64}), '/', vid))) AS client,
      if(bot, ${pick(t, "p_bot_cum", u("vid", 1))}, ${pick(t, "p_human_cum", u("vid", 1))}) AS prof,
      ${pick(t, "g_cum", u("vid", 2))} AS geo,
      if(bot, 1, ${pick(t, "a_cum", u("s", 6))}) AS arr,
      splitByChar(',', ${col("a_campaigns", "arr")}) AS campaigns,
      if(${col("a_utm_source", "arr")} = '', '', campaigns[1 + toUInt32(${u("s", 7)} * length(campaigns))]) AS campaign,
      if(${u("vid", 3)} < 0.05 AND NOT bot, concat('user_', substring(lower(hex(MD5(vid))), 1, 12)), '') AS uid,
      if(bot, ${t.asn_dc}[1 + toUInt32(${u("vid", 4)} * length(${t.asn_dc}))],
              ${t.asn_home}[1 + toUInt32(${u("vid", 4)} * length(${t.asn_home}))]) AS asn_,
      concat(toString(1 + cityHash64({seed:UInt64}, vid, 5) % 223), '.', toString(cityHash64({seed:UInt64}, vid, 6) % 256), '.',
             toString(cityHash64({seed:UInt64}, vid, 7) % 256), '.0') AS ip,
      if(${u("vid", 8)} < 0.8, 'client', 'cookieless') AS id_source,
      multiIf(${u("vid", 9)} < 0.9, 'tally', ${u("vid", 9)} < 0.95, 'plausible', 'ga4') AS protocol,
      arrayFirstIndex(b -> b > s, {day_bounds:Array(UInt64)}) - 1 AS day_index,
      ${pick(t, "hour_cum", u("s", 8))} - 1 AS hour_index,
      arrayCumSum(arrayMap(j -> toInt64(if(j = 0, 0, if(bot, 1000 + ${u("s", "j", 9)} * 4000,
                                                           10000 + pow(${u("s", "j", 9)}, 2) * 290000))),
                           range(len))) AS offsets,
      least({from:Int64} + day_index * ${DAY_MS} + hour_index * ${HOUR_MS} + toInt64(${u("s", 10)} * ${HOUR_MS}),
            {end:Int64} - offsets[len] - 1000) AS start_ms,
      concat('s_', UUIDNumToString(MD5(concat(toString({seed:UInt64}), '/', toString(s), '/1')))) AS sid
    FROM numbers({first_session:UInt64}, {session_count:UInt64})`;
}

export function eventsSql(t: Tables): string {
  const col = (name: string, idx: string) => `${t[name]}[${idx}]`;
  const zipf = `toUInt32(floor(exp(${u("s", "i", 2)} * log(length(${t.paths}) + 1))))`;
  return `
    INSERT INTO events (event_id, property_id, client_id, user_id, session_id, event_type, event_timestamp, received_at,
      page_url, page_title, referrer, user_agent, screen_resolution, viewport_size, language, custom_dimensions,
      custom_metrics, visitor_id_source, source_protocol, interactive, browser, browser_version, os, os_version,
      device_type, country, region, city, continent, geo_timezone, asn, page_host, page_path, utm_source, utm_medium,
      utm_campaign, utm_term, utm_content, click_id_type, referrer_host, source, channel, ip_prefix, is_bot, bot_reason)
    SELECT
      if(i = 1, substring(sid, 3), UUIDNumToString(MD5(concat(toString({seed:UInt64}), '/', toString(s), '/', toString(i))))),
      {property_id:String},
      client,
      uid,
      sid,
      ${col("e_name", "kind")},
      fromUnixTimestamp64Milli(start_ms + off, 'UTC'),
      fromUnixTimestamp64Milli(start_ms + off + 200 + toInt64(${u("s", "i", 3)} * 1300), 'UTC'),
      concat('https://', host, path,
        if(first AND ${col("a_utm_source", "arr")} != '',
           concat('?utm_source=', ${col("a_utm_source", "arr")}, '&utm_medium=', ${col("a_utm_medium", "arr")},
                  '&utm_campaign=', campaign,
                  if(${col("a_utm_content", "arr")} != '', concat('&utm_content=', ${col("a_utm_content", "arr")}), ''),
                  if(${col("a_click_id", "arr")} != '', concat('&', ${col("a_click_id", "arr")}, '=', substring(sid, 3, 12)), '')),
           '')),
      concat(if(path = '/', 'Home', arrayStringConcat(arrayMap(w -> concat(upper(substring(w, 1, 1)), substring(w, 2)),
                                                               splitByRegexp('[/-]', substring(path, 2))), ' ')), ' · Example'),
      if(first, ${col("a_referrer", "arr")}, 'https://www.example.com/'),
      ${col("p_ua", "prof")},
      ${col("p_screen", "prof")},
      ${col("p_viewport", "prof")},
      ${col("g_language", "geo")},
      mapFromArrays(if(prop_key = '', emptyArrayString(), [prop_key]),
                    if(prop_key = '', emptyArrayString(), [prop_values[1 + toUInt32(${u("s", "i", 4)} * length(prop_values))]])),
      mapFromArrays(if(metric_key = '', emptyArrayString(), [metric_key]),
                    if(metric_key = '', emptyArrayFloat64(), [round(${u("s", "i", 5)} * toFloat64(${col("e_metric_max", "kind")}), 2)])),
      id_source,
      protocol,
      ${col("e_interactive", "kind")} = '1',
      ${col("p_browser", "prof")},
      ${col("p_browser_version", "prof")},
      ${col("p_os", "prof")},
      ${col("p_os_version", "prof")},
      ${col("p_device", "prof")},
      ${col("g_country", "geo")},
      ${col("g_region", "geo")},
      ${col("g_city", "geo")},
      ${col("g_continent", "geo")},
      ${col("g_tz", "geo")},
      toUInt32(asn_),
      host,
      path,
      if(first, ${col("a_utm_source", "arr")}, ''),
      if(first, ${col("a_utm_medium", "arr")}, ''),
      if(first, campaign, ''),
      '',
      if(first, ${col("a_utm_content", "arr")}, ''),
      if(first, ${col("a_click_id", "arr")}, ''),
      if(first, ${col("a_referrer_host", "arr")}, ''),
      if(first, ${col("a_source", "arr")}, ''),
      if(first, ${col("a_channel", "arr")}, 'Direct'),
      ip,
      bot,
      ${col("p_bot_reason", "prof")}
    FROM (
      SELECT *, off, i,
        i = 1 AS first,
        -- A session opens with a pageview; bots only view pages.
        if(first OR bot, 1, ${pick(t, "e_cum", u("s", "i", 1))}) AS kind,
        if(${col("e_page", "kind")} != '', ${col("e_page", "kind")}, ${t.paths}[${zipf}]) AS path,
        if(startsWith(path, '/docs'), 'docs.example.com', 'www.example.com') AS host,
        ${col("e_prop_key", "kind")} AS prop_key,
        splitByChar(',', ${col("e_prop_values", "kind")}) AS prop_values,
        ${col("e_metric_key", "kind")} AS metric_key
      FROM (${sessionsSql(t)})
      ARRAY JOIN offsets AS off, arrayEnumerate(offsets) AS i
    )`;
}

/**
 * One `+1` row per session whose first event falls in [from, to), computed from its events as the
 * session reducer (core/session/session.ts) would: the first event opens it, the first and last pageviews
 * are the entry and exit pages, the first event names the acquisition and the visitor's device and
 * place, bounce = one pageview and no interactive custom event, duration in whole seconds.
 */
export const SESSION_LOG_SQL = `
  INSERT INTO session_log (session_id, property_id, client_id, opened_at, started_at, last_event_at, pageviews, events,
    interactive_events, is_bounce, duration, entry_page, exit_page, hostname, referrer_host, source, channel, utm_source,
    utm_medium, utm_campaign, utm_term, utm_content, device_type, browser, browser_version, os, os_version,
    screen_resolution, language, country, region, city, is_bot, version, sign)
  SELECT
    session_id,
    property_id,
    argMin(client_id, event_timestamp),
    min(event_timestamp) AS first_at,
    first_at,
    max(event_timestamp) AS last_at,
    toUInt32(countIf(event_type = 'pageview')) AS n_pageviews,
    toUInt32(count()),
    toUInt32(countIf(event_type != 'pageview' AND interactive)) AS n_interactive,
    n_pageviews = 1 AND n_interactive = 0,
    toUInt32(intDiv(toUnixTimestamp64Milli(last_at) - toUnixTimestamp64Milli(first_at) + 500, 1000)),
    argMinIf(page_path, event_timestamp, event_type = 'pageview'),
    argMaxIf(page_path, event_timestamp, event_type = 'pageview'),
    if(n_pageviews > 0, argMinIf(page_host, event_timestamp, event_type = 'pageview'), argMin(page_host, event_timestamp)),
    argMin(referrer_host, event_timestamp),
    argMin(source, event_timestamp),
    argMin(channel, event_timestamp),
    argMin(utm_source, event_timestamp),
    argMin(utm_medium, event_timestamp),
    argMin(utm_campaign, event_timestamp),
    argMin(utm_term, event_timestamp),
    argMin(utm_content, event_timestamp),
    argMin(device_type, event_timestamp),
    argMin(browser, event_timestamp),
    argMin(browser_version, event_timestamp),
    argMin(os, event_timestamp),
    argMin(os_version, event_timestamp),
    argMin(screen_resolution, event_timestamp),
    argMin(language, event_timestamp),
    argMin(country, event_timestamp),
    argMin(region, event_timestamp),
    argMin(city, event_timestamp),
    max(is_bot),
    toUInt32(1),
    toInt8(1)
  FROM events
  WHERE property_id = {property_id:String}
    AND event_timestamp >= fromUnixTimestamp64Milli({scan_from:Int64}, 'UTC')
    AND event_timestamp < fromUnixTimestamp64Milli({scan_to:Int64}, 'UTC')
  GROUP BY property_id, session_id
  HAVING first_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND first_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
