/**
 * A saved funnel's daily counts (`conversion_funnels`) as Kysely statements: how many visitors
 * reached each step, in order, within one UTC day. The same definition as the funnel question
 * (core/query/funnel.ts, ClickHouse's windowFunnel 'strict_once'): a step is a pageview whose
 * path matches the pattern (goalPathRegex, POSIX `~` on both engines) or an event of that name;
 * bots never count; a visitor is a client id. Portable SQL: one nested level per step, each the
 * visitor's earliest event of that step after their previous step's — earliest is optimal for
 * "reached step k in order", so no window function is needed.
 */
import { type AliasedSelectQueryBuilder, type Expression, type Kysely, type SqlBool, sql } from "kysely";
import { goalPathRegex } from "../property/goals.ts";
import type { FunnelStep } from "../query/funnel.ts";
import { type Period, timestamp } from "./aggregates.ts";
import type { WarehouseDatabase } from "./schema.ts";

type DB = Kysely<WarehouseDatabase>;
type Level = { client_id: string; t: Date };

/** An event (columns qualified by `alias`) that fills `step`. */
function stepSql(step: FunnelStep, alias: string): Expression<SqlBool> {
  const col = (name: string) => sql.ref(`${alias}.${name}`);
  if (step.kind === "event") return sql<SqlBool>`${col("event_type")} = ${step.value}`;
  return sql<SqlBool>`(${col("event_type")} = ${"pageview"} AND ${col("page_path")} ~ ${goalPathRegex(step.value)})`;
}

/**
 * Visitors with their time at step k (0-based): the earliest matching event of the day after their
 * step-(k-1) time. An event in the same millisecond counts when it is not itself a step-(k-1) event
 * (strict_once: one event fills one step; ClickHouse orders same-millisecond events by step).
 */
function level(db: DB, propertyId: string, day: Period, steps: readonly FunnelStep[], k: number) {
  const inDay = (alias: string) => [
    sql<SqlBool>`${sql.ref(`${alias}.property_id`)} = ${propertyId}`,
    sql<SqlBool>`${sql.ref(`${alias}.is_bot`)} = ${false}`,
    sql<SqlBool>`${sql.ref(`${alias}.event_timestamp`)} >= ${timestamp(day.from)}`,
    sql<SqlBool>`${sql.ref(`${alias}.event_timestamp`)} < ${timestamp(day.to)}`,
  ];
  const first = steps[0] as FunnelStep;
  let current: AliasedSelectQueryBuilder<Level, "p"> = db
    .selectFrom("events as e")
    .select((eb) => ["e.client_id", eb.fn.min("e.event_timestamp").as("t")])
    .where((eb) => eb.and([...inDay("e"), stepSql(first, "e")]))
    .groupBy("e.client_id")
    .as("p");
  for (let i = 1; i <= k; i++) {
    const previous = steps[i - 1] as FunnelStep;
    const step = steps[i] as FunnelStep;
    current = db
      .selectFrom(current)
      .innerJoin("events as e", (j) => j.onRef("e.client_id", "=", "p.client_id"))
      .select((eb) => ["p.client_id", eb.fn.min("e.event_timestamp").as("t")])
      .where((eb) =>
        eb.and([
          ...inDay("e"),
          stepSql(step, "e"),
          eb.or([
            eb("e.event_timestamp", ">", eb.ref("p.t")),
            eb.and([eb("e.event_timestamp", "=", eb.ref("p.t")), eb.not(stepSql(previous, "e"))]),
          ]),
        ]),
      )
      .groupBy("p.client_id")
      .as("p");
  }
  return current;
}

/** One row, `visitors`: how many reached step k (0-based) of the funnel that day. */
export function funnelStepCount(db: DB, propertyId: string, day: Period, steps: readonly FunnelStep[], k: number) {
  return db.selectFrom(level(db, propertyId, day, steps, k)).select((eb) => eb.fn.countAll<number>().as("visitors"));
}

/** Clears a day's funnel rows (every property and funnel) before they are written again. */
export function deleteFunnelDay(db: DB, day: Period) {
  return db.deleteFrom("conversion_funnels").where(sql.ref("day"), "=", sql<string>`CAST(${day.start} AS DATE)`);
}
