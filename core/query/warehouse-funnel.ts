/**
 * A funnel (core/query/funnel.ts) from the warehouse: the same question as ClickHouse's
 * `windowFunnel(window, 'strict_once')`, as portable SQL (PostgreSQL and Redshift: CTEs, a join
 * and ROW_NUMBER, no arrays or LATERAL). The row has ClickHouse's shape — `step_1 … step_n` — so
 * `shapeFunnel` shapes both. Values only as parameters.
 *
 * windowFunnel's rule: a visitor reaches step k when distinct events e1…ek exist, ei matching
 * step i, with non-decreasing times (events in one millisecond count in step order) and ek at
 * most `window_seconds` after e1. For one start e1, taking each next step's earliest event (not
 * already in the chain) is optimal, so each step is one join: every start keeps its earliest next
 * event. NOTE: the choice among *different* events in the same millisecond is by event id, so a
 * chain that needs one of them for a later step can end a step short where ClickHouse (which
 * tries every choice) goes on — only when one visitor has two events in one millisecond that
 * match overlapping steps.
 */
import { sql } from "kysely";
import { goalPathRegex } from "../property/goals.ts";
import type { FunnelQuery, FunnelStep } from "./funnel.ts";
import { at, type CompiledQuery, compile, type Fragment } from "./warehouse-scope.ts";

const flag = (i: number) => sql.ref(`s${i + 1}`);
const idOf = (i: number) => sql.ref(`id${i + 1}`);
const level = (i: number) => sql.ref(`l${i + 1}`);

/** Whether an event fills `step`: ClickHouse's condition, with POSIX `~` for RE2 `match`. */
function stepSql(step: FunnelStep): Fragment {
  if (step.kind === "event") return sql`event_type = ${step.value}`;
  return sql`(event_type = ${"pageview"} AND page_path ~ ${goalPathRegex(step.value)})`;
}

/**
 * `l{k+1}`: each start of `l{k}` with its chain's earliest event for step k+1 — at or after the
 * chain's last time, within the window from its first, not an event the chain holds already.
 */
function nextLevel(k: number, windowSeconds: number): Fragment {
  const held = Array.from({ length: k + 1 }, (_, i) => sql`l.${idOf(i)}`);
  const carried = held.slice(1);
  const candidates = sql`SELECT l.client_id, l.id1, l.t1${sql.join(
    carried.map((c) => sql`, ${c}`),
    sql``,
  )}, m.event_id AS ${idOf(k + 1)}, m.ts AS t,
    ROW_NUMBER() OVER (PARTITION BY l.client_id, l.id1 ORDER BY m.ts, m.event_id) AS rn
  FROM ${level(k)} l JOIN m ON m.client_id = l.client_id
  WHERE m.${flag(k + 1)} = 1 AND m.ts >= l.t
    AND m.ts <= l.t1 + CAST(${windowSeconds} AS INTEGER) * INTERVAL '1 second'
    AND m.event_id NOT IN (${sql.join(held)})`;
  const kept = Array.from({ length: k + 2 }, (_, i) => sql`c.${idOf(i)}`);
  return sql`${level(k + 1)} AS (SELECT c.client_id, c.t1, c.t, ${sql.join(kept)} FROM (${candidates}) c WHERE c.rn = 1)`;
}

/** One row, `step_1 … step_n`: the visitors whose chain reached at least step k. */
export function buildWarehouseFunnelSql(input: FunnelQuery): CompiledQuery {
  const { steps, window_seconds } = input.spec;
  const conditions = steps.map(stepSql);
  const flags = conditions.map((c, i) => sql`CASE WHEN ${c} THEN 1 ELSE 0 END AS ${flag(i)}`);
  // Only events filling some step, as ClickHouse's WHERE passes to windowFunnel.
  const matches = sql`m AS (SELECT client_id, event_id, event_timestamp AS ts, ${sql.join(flags)}
  FROM events
  WHERE property_id = ${input.property_id}
    AND event_timestamp >= ${at(input.from_ms)} AND event_timestamp < ${at(input.to_ms)}${
      input.include_bots ? sql`` : sql` AND NOT is_bot`
    }
    AND (${sql.join(conditions, sql` OR `)}))`;
  const first = sql`l1 AS (SELECT client_id, event_id AS id1, ts AS t1, ts AS t FROM m WHERE s1 = 1)`;
  const levels = Array.from({ length: steps.length - 1 }, (_, k) => nextLevel(k, window_seconds));
  const ctes = [matches, first, ...levels];
  const counts = steps.map(
    (_, i) => sql`(SELECT COUNT(DISTINCT client_id) FROM ${level(i)}) AS ${sql.ref(`step_${i + 1}`)}`,
  );
  return compile(sql`WITH ${sql.join(ctes, sql`,\n`)}\nSELECT ${sql.join(counts)}`);
}
