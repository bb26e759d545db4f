/**
 * Shared by the once-only tests (#15): NDJSON imported through the real route and consumed by the
 * real consumer, and a property's figures as every reader sees them — `/api/v1/query` (totals and
 * a breakdown), the raw tables (events, session_log, sessions) and the rollups — so "counted once"
 * is checked in every table, not in one report.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { vi } from "vitest";
import worker from "../../workers/main.ts";
import { ADMIN, call } from "./helpers.ts";

const clickhouse = createClient({
  url: env.CLICKHOUSE_URL,
  database: env.CLICKHOUSE_DATABASE,
  keep_alive: { enabled: false },
});

/** Messages per delivered batch, as the events queue's consumer is configured (max_batch_size). */
const MESSAGES_PER_BATCH = 100;

/**
 * POSTs NDJSON to /api/v1/import, keeps the messages the route queues, then hands them to the real
 * consumer in batches, each message with a fresh id (a second import is new messages to the queue).
 */
export async function importAndConsume(propertyId: string, lines: readonly string[]): Promise<number> {
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockImplementation(async () => ({}) as never);
  let accepted: number;
  let bodies: unknown[];
  try {
    const res = await call(`/api/v1/import?property=${propertyId}`, {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/x-ndjson" },
      body: `${lines.join("\n")}\n`,
    });
    if (res.status !== 200) throw new Error(`import failed: ${res.status} ${await res.text()}`);
    accepted = (await res.json<{ accepted: number }>()).accepted;
    bodies = send.mock.calls.flatMap(([batch]) => [...batch].map((m) => m.body as unknown));
  } finally {
    send.mockRestore();
  }
  for (let i = 0; i < bodies.length; i += MESSAGES_PER_BATCH) {
    const batch = createMessageBatch(
      "events",
      bodies
        .slice(i, i + MESSAGES_PER_BATCH)
        .map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    if (result.retryMessages.length > 0) throw new Error(`${result.retryMessages.length} messages were retried`);
  }
  return accepted;
}

/** Runs `sql` for a property; `{range}` becomes its time column's UTC dates between from and to. */
async function rows(sql: string, column: string, scope: Scope): Promise<Record<string, unknown>[]> {
  const result = await clickhouse.query({
    query: sql.replace("{range}", `toDate(${column}) BETWEEN {from:Date} AND {to:Date}`),
    query_params: scope,
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return result.json<Record<string, unknown>>();
}

type Scope = { p: string; from: string; to: string };

async function query(spec: Record<string, unknown>): Promise<unknown> {
  const res = await call("/api/v1/query", {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json", "Cache-Control": "no-cache" },
    body: JSON.stringify(spec),
  });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${await res.text()}`);
  return (await res.json<{ results: unknown }>()).results;
}

/** Everything a reader could count for a property over [from, to] (UTC dates). */
export async function figures(propertyId: string, from: string, to: string): Promise<Record<string, unknown>> {
  const spec = { property_id: propertyId, date_range: [from, to], timezone: "UTC" };
  const scope: Scope = { p: propertyId, from, to };
  return {
    totals: await query({
      ...spec,
      metrics: ["visitors", "visits", "pageviews", "events", "bounce_rate", "avg_session_duration"],
    }),
    pages: await query({ ...spec, metrics: ["visitors", "pageviews"], dimensions: ["event:page"] }),
    entries: await query({ ...spec, metrics: ["visits", "bounce_rate"], dimensions: ["visit:entry_page"] }),
    events: await rows(
      "SELECT count() AS n, uniqExact(event_id) AS ids, uniqExact(client_id) AS visitors, countIf(event_type = 'pageview') AS pageviews FROM events WHERE property_id = {p:String} AND {range}",
      "event_timestamp",
      scope,
    ),
    session_log: await rows(
      "SELECT sum(sign) AS visits, sum(sign * pageviews) AS pageviews, sum(sign * events) AS events, sum(sign * is_bounce) AS bounces, sum(sign * duration) AS duration FROM session_log WHERE property_id = {p:String} AND {range}",
      "opened_at",
      scope,
    ),
    sessions: await rows(
      "SELECT count() AS visits, sum(pageviews) AS pageviews, sum(duration) AS duration FROM sessions FINAL WHERE property_id = {p:String} AND {range}",
      "opened_at",
      scope,
    ),
    events_rollup: await rows(
      "SELECT dim, sum(pageviews) AS pageviews, sum(events) AS events FROM events_rollup WHERE property_id = {p:String} AND {range} GROUP BY dim ORDER BY dim",
      "hour",
      scope,
    ),
    sessions_rollup: await rows(
      "SELECT dim, sum(visits) AS visits, sum(bounces) AS bounces, sum(duration) AS duration, sum(pageviews) AS pageviews FROM sessions_rollup WHERE property_id = {p:String} AND {range} GROUP BY dim ORDER BY dim",
      "hour",
      scope,
    ),
    events_rollup_days: await rows(
      "SELECT dim, span, sum(pageviews) AS pageviews, sum(events) AS events FROM events_rollup_days WHERE property_id = {p:String} AND {range} GROUP BY dim, span ORDER BY dim, span",
      "day",
      scope,
    ),
    sessions_rollup_days: await rows(
      "SELECT dim, span, sum(visits) AS visits, sum(bounces) AS bounces, sum(duration) AS duration FROM sessions_rollup_days WHERE property_id = {p:String} AND {range} GROUP BY dim, span ORDER BY dim, span",
      "day",
      scope,
    ),
  };
}
