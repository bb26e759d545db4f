/**
 * A realistic analytics dataset generated inside ClickHouse, for the query benchmark
 * (bench/query.ts) and for trying dashboards on volume: `INSERT INTO events SELECT … FROM numbers(…)`
 * makes the rows server-side, which is orders of magnitude faster than sending them.
 *
 * The shape: sessions of ~2.6 events (geometric lengths, the first event a pageview), visitors who
 * come back (a returning pool drawn with a power-law skew, so a few visit daily and most once),
 * Zipf-ish pages over a few hundred paths, acquisition (search, social, AI, referrals, email and
 * paid campaigns with UTM tags and click ids), device/browser/OS profiles, countries with regions
 * and cities, custom events with props (signup, download, outbound_click, purchase with revenue,
 * non-interactive engagement), ~3% bot sessions, weekends quieter than weekdays and a daily cycle.
 * Every value is a hash of (seed, session, event): the same parameters give the same rows. The
 * model's tables are in bench/generate-model.ts; this file turns them into SQL and runs it.
 *
 * Then `session_log` gets one `+1` row per session computed from the stored events, so `sessions`
 * and the rollups fill through their materialized views exactly as the consumer's writes fill
 * them. The property should hold no other events (the session rows are computed from all of them).
 *
 *   node bench/generate-events.ts [--events 10000000] [--days 30] [--seed 1] [--property UA-BENCH-1] [--end ISO]
 *
 * writes to CLICKHOUSE_URL (default the dev engine, http://127.0.0.1:8123), as `npm run migrate` does.
 */
import { parseArgs } from "node:util";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { cumulative, dayWeights, type Tables, tables } from "./generate-model.ts";

export interface GenerateOptions {
  property_id: string;
  /** Exactly this many events are inserted. */
  events: number;
  days: number;
  /** Epoch ms: no event is at or after it; the data covers the `days` before it. */
  end: number;
  seed: number;
  /** Events per INSERT (default 1M): bounds the engine's memory per statement. */
  chunk_events?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface GenerateReport {
  events: number;
  sessions: number;
  from: number;
  end: number;
  insert_seconds: number;
  session_log_seconds: number;
  optimize_seconds: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Geometric session lengths, P(L = k) = (1 − p) p^(k−1): mean 1 / (1 − p) ≈ 2.6 before the cap. */
const LENGTH_P = 0.62;
const MAX_SESSION_EVENTS = 30;
/** Gaps between a session's events: 10 s to 5 min (humans), 1–5 s (bots); a session spans < 3 h. */
const MAX_SESSION_SPAN_MS = MAX_SESSION_EVENTS * 300_000;
const BOT_SHARE = 0.03;
/** Sessions by a first-time visitor; the rest come from the returning pool. */
const NEW_VISITOR_SHARE = 0.55;
const RETURNING_SKEW = 1.7;

// ---------------------------------------------------------------------------------------------
// SQL. `u(...)` is a uniform draw in [0, 1) from a hash of the seed and its arguments.

const u = (...keys: (string | number)[]) => `(cityHash64({seed:UInt64}, ${keys.join(", ")}) / 18446744073709551616.0)`;
/** 1-based index of the first cumulative share above the draw. */
const pick = (t: Tables, cum: string, draw: string) => `arrayFirstIndex(x -> x > ${draw}, ${t[cum]})`;
const sessionLength = `least(${MAX_SESSION_EVENTS}, 1 + toUInt32(floor(log(1 - ${u("s", 1)}) / log(${LENGTH_P}))))`;

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

function eventsSql(t: Tables): string {
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
 * session reducer (core/session.ts) would: the first event opens it, the first and last pageviews
 * are the entry and exit pages, the first event names the acquisition and the visitor's device and
 * place, bounce = one pageview and no interactive custom event, duration in whole seconds.
 */
const SESSION_LOG_SQL = `
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

// ---------------------------------------------------------------------------------------------

/** Session count and the length of the last one, so the sessions hold exactly `events` events. */
async function sizeSessions(client: ClickHouseClient, seed: number, events: number) {
  const total = async (sessions: number) => {
    const r = await client.query({
      query: `SELECT sum(${sessionLength}) AS n FROM (SELECT number AS s FROM numbers({sessions:UInt64}))`,
      query_params: { seed, sessions },
      format: "JSONEachRow",
    });
    return Number((await r.json<{ n: string }>())[0]?.n ?? 0);
  };
  // Smallest session count whose lengths reach `events`: bisection on the (monotone) running sum.
  let lo = 1;
  let hi = Math.ceil(events / 2);
  while ((await total(hi)) < events) hi *= 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await total(mid)) >= events) hi = mid;
    else lo = mid + 1;
  }
  const before = await total(lo - 1);
  return { sessions: lo, lastLength: events - before };
}

/** Cumulative session counts per day (weighted by `dayWeights`), as the SQL's day lookup needs. */
function dayBounds(from: number, days: number, sessions: number): number[] {
  const cum = cumulative(dayWeights(from, days));
  return cum.map((c, d) => (d === days - 1 ? sessions : Math.round(c * sessions)));
}

export async function generateEvents(client: ClickHouseClient, options: GenerateOptions): Promise<GenerateReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chunk = options.chunk_events ?? 1_000_000;
  const from = options.end - options.days * DAY_MS;
  const t = tables();
  const seed = options.seed;
  const { sessions, lastLength } = await sizeSessions(client, seed, options.events);
  // Sessions per INSERT so that each writes about `chunk` events.
  const perChunk = Math.max(1, Math.round((chunk * sessions) / options.events));
  const bounds = Array.from({ length: Math.ceil(sessions / perChunk) }, (_, k) => ({
    first: k * perChunk,
    count: Math.min(perChunk, sessions - k * perChunk),
  }));
  const started = performance.now();
  let inserted = 0;
  for (const [k, b] of bounds.entries()) {
    const t0 = performance.now();
    await client.command({
      query: eventsSql(t),
      query_params: {
        seed,
        property_id: options.property_id,
        from,
        end: options.end,
        returning_pool: Math.max(1, Math.round(options.events / 40)),
        last_session: sessions - 1,
        last_length: lastLength,
        day_bounds: dayBounds(from, options.days, sessions),
        first_session: b.first,
        session_count: b.count,
      },
    });
    const count = await countEvents(client, options.property_id);
    const rows = count - inserted;
    inserted = count;
    const seconds = (performance.now() - t0) / 1000;
    log(
      `  events chunk ${k + 1}/${bounds.length}: ${rows.toLocaleString()} rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString()} rows/s, with the rollup view)`,
    );
  }
  const insertSeconds = (performance.now() - started) / 1000;
  log(
    `events: ${inserted.toLocaleString()} rows in ${insertSeconds.toFixed(1)} s (${Math.round(inserted / insertSeconds).toLocaleString()} rows/s)`,
  );

  // Sessions by the day of their first event. The scan reaches a session's longest span beyond the
  // days on both sides: a session is grouped whole, and only in the chunk where it opened.
  const t1 = performance.now();
  const daysPerChunk = Math.max(1, Math.floor((options.days * chunk) / options.events));
  for (let d = 0; d < options.days + 1; d += daysPerChunk) {
    const lo = from + d * DAY_MS;
    const hi = from + Math.min(options.days + 1, d + daysPerChunk) * DAY_MS;
    await client.command({
      query: SESSION_LOG_SQL,
      query_params: {
        property_id: options.property_id,
        from: lo,
        to: hi,
        scan_from: lo - MAX_SESSION_SPAN_MS,
        scan_to: hi + MAX_SESSION_SPAN_MS,
      },
    });
  }
  const sessionSeconds = (performance.now() - t1) / 1000;
  const logged = await countRows(client, "session_log", options.property_id);
  log(
    `session_log: ${logged.toLocaleString()} sessions in ${sessionSeconds.toFixed(1)} s (${Math.round(logged / sessionSeconds).toLocaleString()} rows/s, with the sessions and rollup views)`,
  );
  if (logged !== sessions) throw new Error(`session_log holds ${logged} sessions, expected ${sessions}`);

  // NOTE: each INSERT above left its own parts, and the rollups hold one partial aggregate per
  // key and insert block. A production table's background merges catch up within minutes; a
  // benchmark that ran right after a bulk load would measure the merge backlog (more parts to
  // open, rollup rows merged at query time, `sessions FINAL` collapsing across parts) instead of
  // the steady state. OPTIMIZE … FINAL brings every table to that steady state now.
  const t2 = performance.now();
  for (const table of [
    "events",
    "session_log",
    "sessions",
    "events_rollup",
    "sessions_rollup",
    "events_rollup_days",
    "sessions_rollup_days",
  ])
    await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
  const optimizeSeconds = (performance.now() - t2) / 1000;
  log(`OPTIMIZE … FINAL of the seven tables: ${optimizeSeconds.toFixed(1)} s`);
  return {
    events: inserted,
    sessions,
    from,
    end: options.end,
    insert_seconds: insertSeconds,
    session_log_seconds: sessionSeconds,
    optimize_seconds: optimizeSeconds,
  };
}

async function countRows(client: ClickHouseClient, table: "events" | "session_log", propertyId: string) {
  const r = await client.query({
    query: `SELECT count() AS n FROM ${table} WHERE property_id = {p:String}`,
    query_params: { p: propertyId },
    format: "JSONEachRow",
  });
  return Number((await r.json<{ n: string }>())[0]?.n ?? 0);
}
const countEvents = (client: ClickHouseClient, propertyId: string) => countRows(client, "events", propertyId);

/** Rows and bytes on disk of the tables the generator fills (all properties). */
export async function tableSizes(client: ClickHouseClient) {
  const r = await client.query({
    query: `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts
            FROM system.parts WHERE active AND database = currentDatabase()
              AND table IN ('events', 'session_log', 'sessions', 'events_rollup', 'sessions_rollup', 'events_rollup_days', 'sessions_rollup_days')
            GROUP BY table ORDER BY table`,
    format: "JSONEachRow",
  });
  return (await r.json<{ table: string; rows: string; bytes: string; parts: string }>()).map((x) => ({
    table: x.table,
    rows: Number(x.rows),
    bytes: Number(x.bytes),
    parts: Number(x.parts),
  }));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "10000000" },
      days: { type: "string", default: "30" },
      seed: { type: "string", default: "1" },
      property: { type: "string", default: "UA-BENCH-1" },
      end: { type: "string" },
    },
  });
  const client = createClient({
    url: process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:8123",
    username: process.env.CLICKHOUSE_USER ?? "default",
    password: process.env.CLICKHOUSE_PASSWORD ?? "",
    database: process.env.CLICKHOUSE_DATABASE ?? "default",
    request_timeout: 1_800_000,
  });
  const report = await generateEvents(client, {
    property_id: values.property,
    events: Number(values.events),
    days: Number(values.days),
    seed: Number(values.seed),
    end: values.end ? Date.parse(values.end) : Date.now(),
  });
  console.log(JSON.stringify(report));
  for (const s of await tableSizes(client))
    console.log(
      `${s.table.padEnd(16)} ${s.rows.toLocaleString().padStart(12)} rows ${(s.bytes / 2 ** 20).toFixed(1).padStart(9)} MiB ${s.parts} parts`,
    );
  await client.close();
}
