/**
 * The scheduled aggregates of one UTC day (issue #16), as the warehouse jobs call them: the day's,
 * its ISO week's and its month's rows, the weekly cohorts the day touches, and each saved funnel's
 * counts for the day, read through the PropertyDO (consumers/warehouse-aggregate-day.ts does the
 * work). Returns the rows written.
 */
import { propertyStub } from "../platform/properties.ts";
import type { Warehouse } from "../platform/warehouse.ts";
import { aggregateDay } from "./warehouse-aggregate-day.ts";

export async function runAggregates(env: Env, db: Warehouse, day: string): Promise<number> {
  return aggregateDay(db, day, (propertyId) => propertyStub(env, propertyId).funnels());
}
