/**
 * The scheduled aggregates of one UTC day (issue #16): the day's, its ISO week's and its month's
 * rows (core/warehouse/aggregates.ts), the weekly cohorts the day touches, and each saved funnel's
 * counts for the day. No Worker bindings here (the Env shell is consumers/warehouse-aggregates.ts),
 * so Node tests and scripts run the same code. Each part
 * replaces its rows in one transaction (DELETE then INSERT), so a re-run or a resumed run never
 * doubles them. Returns the rows written.
 */
import { type SavedFunnel, stepName } from "../core/property/funnels.ts";
import { type Period, periodsOf, rebuildPeriod, timestamp } from "../core/warehouse/aggregates.ts";
import { cohortWindow, deleteCohorts, insertCohorts } from "../core/warehouse/cohorts.ts";
import { deleteFunnelDay, funnelStepCount } from "../core/warehouse/conversion-funnels.ts";
import type { Warehouse } from "../platform/warehouse.ts";

/** Where a property's saved funnels come from: its PropertyDO in the Worker, a stand-in in tests. */
export type FunnelSource = (propertyId: string) => Promise<SavedFunnel[]>;

/** Rows an INSERT reported (BIGINT in Kysely's result). */
const inserted = (result: { numInsertedOrUpdatedRows?: bigint }) => Number(result.numInsertedOrUpdatedRows ?? 0n);

export async function aggregateDay(db: Warehouse, day: string, funnelsOf: FunnelSource): Promise<number> {
  const periods = periodsOf(day);
  let rows = 0;
  for (const period of periods)
    rows += await db.transaction().execute(async (trx) => {
      const { clear, inserts } = rebuildPeriod(trx, period);
      await clear.execute();
      let n = 0;
      for (const insert of inserts) n += inserted(await insert.executeTakeFirstOrThrow());
      return n;
    });
  const window = cohortWindow(day);
  rows += await db.transaction().execute(async (trx) => {
    await deleteCohorts(trx, window).execute();
    return inserted(await insertCohorts(trx, window).executeTakeFirstOrThrow());
  });
  rows += await runFunnels(db, periods[0] as Period, funnelsOf);
  return rows;
}

/** Each saved funnel of each property active that day: its step counts, then the day's rows replaced. */
async function runFunnels(db: Warehouse, day: Period, funnelsOf: FunnelSource): Promise<number> {
  const active = await db
    .selectFrom("events")
    .select("property_id")
    .distinct()
    .where((eb) =>
      eb.and([
        eb(timestamp(day.from), "<=", eb.ref("event_timestamp")),
        eb(eb.ref("event_timestamp"), "<", timestamp(day.to)),
      ]),
    )
    .execute();
  const values: {
    property_id: string;
    funnel_id: string;
    day: string;
    step: number;
    step_name: string;
    visitors: number;
  }[] = [];
  for (const { property_id } of active) {
    const saved = await funnelsOf(property_id);
    for (const funnel of saved)
      for (const [k, step] of funnel.steps.entries()) {
        const { visitors } = await funnelStepCount(db, property_id, day, funnel.steps, k).executeTakeFirstOrThrow();
        values.push({
          property_id,
          funnel_id: funnel.id,
          day: day.start,
          step: k + 1,
          step_name: stepName(step),
          visitors: Number(visitors),
        });
      }
  }
  return db.transaction().execute(async (trx) => {
    await deleteFunnelDay(trx, day).execute();
    if (values.length === 0) return 0;
    return inserted(await trx.insertInto("conversion_funnels").values(values).executeTakeFirstOrThrow());
  });
}
