/**
 * What the query-engine tests share: the clock and goals they resolve queries with, the exact
 * property's events, and the engine's pipeline (normalise → plan → SQL → shape) run against a database.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { Event } from "../../core/event.ts";
import { type GoalRef, normaliseQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import { type Plan, planQuery } from "../../core/query/plan.ts";
import { shapeRows } from "../../core/query/shape.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { rows } from "../support/clickhouse.ts";

export const NOW = Date.UTC(2026, 10, 26, 12, 0);
export const DAY = Date.UTC(2026, 10, 20);
const GOALS: GoalRef[] = [
  { name: "Signup", kind: "event", event_name: "signup" },
  { name: "Blog", kind: "page", page_path: "/blog/**" },
];

/** Inserts replayed (or generated) events and their session log. */
export async function insert(client: ClickHouseClient, data: { events: unknown[]; sessionLog: unknown[] }) {
  await client.insert({ table: "events", values: data.events, format: "JSONEachRow" });
  await client.insert({ table: "session_log", values: data.sessionLog, format: "JSONEachRow" });
}

/** A query on UA-EXACT-1 (unless told) over 2026-11-20..22, visitors unless told, normalised at NOW. */
export function resolve(spec: Partial<QuerySpecInput>, property = "UA-EXACT-1"): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({
    property_id: property,
    metrics: ["visitors"],
    date_range: ["2026-11-20", "2026-11-22"],
    ...spec,
  });
  return normaliseQuery(parsed, { propertyTimezone: "UTC", createdAt: DAY - 86_400_000 * 30, now: NOW, goals: GOALS });
}

/** The raw plan: every leg on `events`/`sessions`, whatever the planner would pick. */
export const raw = (plan: Plan): Plan => ({
  ...plan,
  legs: plan.legs.map((l) => ({ ...l, table: l.side, rollupDimension: null })),
});

/** Plans (or forces a plan), builds the SQL, runs it on `client` and shapes the answer. */
export async function runQuery(client: ClickHouseClient, q: ResolvedQuery, force?: (p: Plan) => Plan) {
  const planned = planQuery(q, NOW, 90);
  const plan = force ? force(planned) : planned;
  const built = buildQuerySql(q, plan);
  const result = await rows<Record<string, unknown>>(client, built.sql, built.params);
  return { plan, ...shapeRows(q, result, built.gapFill === null) };
}

/** A moment on DAY (2026-11-20, UTC). */
export const at = (h: number, m = 0) => DAY + h * 3_600_000 + m * 60_000;
/** A UA-EXACT-1 pageview (unless `o` says otherwise). */
export const ev = (client_id: string, id: string, t: number, o: Partial<Event> = {}) =>
  makeEvent({ property_id: "UA-EXACT-1", client_id, event_id: id, event_timestamp: t, ...o });
