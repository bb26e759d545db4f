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
 * model's tables are in bench/generate-model.ts, the SQL made of them in bench/generate-sql.ts; this
 * file sizes the run, executes it in three phases (events, session_log, OPTIMIZE) and reports.
 *
 * Then `session_log` gets one `+1` row per session computed from the stored events, so `sessions`
 * and the rollups fill through their materialized views exactly as the consumer's writes fill
 * them. The property should hold no other events (the session rows are computed from all of them).
 *
 *   node bench/generate-events.ts [--events 10000000] [--days 30] [--seed 1] [--property UA-BENCH-1] [--end ISO]
 *
 * writes to CLICKHOUSE_URL (default the dev engine, http://127.0.0.1:8123) and logs in as `npm run migrate` does.
 */
import { parseArgs } from "node:util";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { DAY_MS } from "../core/time.ts";
import { writerLogin } from "../dev/servers/clickhouse-users.ts";
import { cumulative, dayWeights, tables } from "./generate-model.ts";
import { eventsSql, MAX_SESSION_SPAN_MS, SESSION_LOG_SQL, sessionLength } from "./generate-sql.ts";

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

/** The tables a run fills: events and session_log, and what their materialized views feed. */
const FILLED_TABLES = [
  "events",
  "session_log",
  "sessions",
  "events_rollup",
  "sessions_rollup",
  "events_rollup_days",
  "sessions_rollup_days",
] as const;

type Log = (line: string) => void;
const rate = (rows: number, seconds: number) => Math.round(rows / seconds).toLocaleString();

/** Phase 1: the events, in INSERTs of about `chunk` events each; returns how many were written. */
async function insertEvents(
  client: ClickHouseClient,
  options: GenerateOptions,
  plan: { from: number; sessions: number; lastLength: number; chunk: number },
  log: Log,
): Promise<number> {
  const perChunk = Math.max(1, Math.round((plan.chunk * plan.sessions) / options.events));
  const chunks = Math.ceil(plan.sessions / perChunk);
  const query = eventsSql(tables());
  let inserted = 0;
  for (let k = 0; k < chunks; k++) {
    const t0 = performance.now();
    await client.command({
      query,
      // events has a partition per day: a chunk of a long history (or all of a small one) spans more than 100.
      clickhouse_settings: { max_partitions_per_insert_block: String(options.days + 1) },
      query_params: {
        seed: options.seed,
        property_id: options.property_id,
        from: plan.from,
        end: options.end,
        returning_pool: Math.max(1, Math.round(options.events / 40)),
        last_session: plan.sessions - 1,
        last_length: plan.lastLength,
        day_bounds: dayBounds(plan.from, options.days, plan.sessions),
        first_session: k * perChunk,
        session_count: Math.min(perChunk, plan.sessions - k * perChunk),
      },
    });
    const count = await countRows(client, "events", options.property_id);
    const rows = count - inserted;
    inserted = count;
    const seconds = (performance.now() - t0) / 1000;
    log(
      `  events chunk ${k + 1}/${chunks}: ${rows.toLocaleString()} rows in ${seconds.toFixed(1)} s (${rate(rows, seconds)} rows/s, with the rollup view)`,
    );
  }
  return inserted;
}

/**
 * Phase 2: sessions by the day of their first event. The scan reaches a session's longest span
 * beyond the days on both sides: a session is grouped whole, and only in the chunk where it opened.
 */
async function logSessions(client: ClickHouseClient, options: GenerateOptions, from: number, chunk: number) {
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
  return countRows(client, "session_log", options.property_id);
}

/**
 * Phase 3. Each INSERT left its own parts, and the rollups hold one partial aggregate per key and
 * insert block. A production table's background merges catch up within minutes; a benchmark that
 * ran right after a bulk load would measure the merge backlog (more parts to open, rollup rows
 * merged at query time, `sessions FINAL` collapsing across parts) instead of the steady state.
 * OPTIMIZE … FINAL brings every table to that steady state now.
 */
async function optimizeTables(client: ClickHouseClient) {
  for (const table of FILLED_TABLES) await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

export async function generateEvents(client: ClickHouseClient, options: GenerateOptions): Promise<GenerateReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chunk = options.chunk_events ?? 1_000_000;
  const from = options.end - options.days * DAY_MS;
  const { sessions, lastLength } = await sizeSessions(client, options.seed, options.events);

  const [inserted, insertSeconds] = await timed(() =>
    insertEvents(client, options, { from, sessions, lastLength, chunk }, log),
  );
  log(
    `events: ${inserted.toLocaleString()} rows in ${insertSeconds.toFixed(1)} s (${rate(inserted, insertSeconds)} rows/s)`,
  );

  const [logged, sessionSeconds] = await timed(() => logSessions(client, options, from, chunk));
  log(
    `session_log: ${logged.toLocaleString()} sessions in ${sessionSeconds.toFixed(1)} s (${rate(logged, sessionSeconds)} rows/s, with the sessions and rollup views)`,
  );
  if (logged !== sessions) throw new Error(`session_log holds ${logged} sessions, expected ${sessions}`);

  const [, optimizeSeconds] = await timed(() => optimizeTables(client));
  log(`OPTIMIZE … FINAL of the ${FILLED_TABLES.length} tables: ${optimizeSeconds.toFixed(1)} s`);
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

/** Rows and bytes on disk of the tables the generator fills (all properties). */
export async function tableSizes(client: ClickHouseClient) {
  const r = await client.query({
    query: `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts
            FROM system.parts WHERE active AND database = currentDatabase()
              AND table IN {tables:Array(String)}
            GROUP BY table ORDER BY table`,
    query_params: { tables: [...FILLED_TABLES] },
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
  const { url, username, password } = writerLogin();
  const client = createClient({
    url,
    username,
    password,
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
