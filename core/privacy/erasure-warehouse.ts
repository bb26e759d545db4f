/**
 * An erasure's warehouse statements (Kysely, portable to PostgreSQL and Redshift): find the
 * visitor's client ids and hours, delete their events and sessions, or every row of a property.
 * The aggregates of the days a visitor touched are rebuilt by the scheduled job's own code
 * (consumers/warehouse-aggregate-day.ts) once their rows are gone.
 */
import { type Kysely, sql } from "kysely";
import type { WarehouseDatabase } from "../warehouse/schema.ts";

type DB = Kysely<WarehouseDatabase>;

/** Every warehouse table with a property_id column (job_runs has none). */
export const PROPERTY_TABLES = [
  "events",
  "sessions",
  "daily_metrics",
  "weekly_reports",
  "monthly_reports",
  "user_cohorts",
  "conversion_funnels",
  "data_quality",
] as const;

/** The client ids that are the visitor, or that sent its user id. */
export function findClientIds(db: DB, propertyId: string, visitor: string) {
  return db
    .selectFrom("events")
    .select("client_id")
    .distinct()
    .where("property_id", "=", propertyId)
    .where((eb) => eb.or([eb("client_id", "=", visitor), eb("user_id", "=", visitor)]));
}

const hourOf = sql<Date>`DATE_TRUNC('hour', event_timestamp)`;

/** The hours of the visitor's events, or of all the property's events without a visitor. */
export function findHours(db: DB, propertyId: string, visitor?: string, clientIds: readonly string[] = []) {
  const query = db.selectFrom("events").select(hourOf.as("hour")).distinct().where("property_id", "=", propertyId);
  if (visitor === undefined) return query;
  return query.where((eb) =>
    eb.or([eb("user_id", "=", visitor), ...(clientIds.length > 0 ? [eb("client_id", "in", [...clientIds])] : [])]),
  );
}

/** Deletes the visitor's events (by client id or user id) and their client ids' sessions. */
export function deleteVisitor(db: DB, propertyId: string, visitor: string, clientIds: readonly string[]) {
  const ids = clientIds.length > 0 ? [...clientIds] : [visitor];
  return [
    db
      .deleteFrom("events")
      .where("property_id", "=", propertyId)
      .where((eb) => eb.or([eb("client_id", "in", ids), eb("user_id", "=", visitor)])),
    db.deleteFrom("sessions").where("property_id", "=", propertyId).where("client_id", "in", ids),
  ];
}

/** Deletes every row of the property from every table that has one. */
export function deleteProperty(db: DB, propertyId: string) {
  return PROPERTY_TABLES.map((table) => db.deleteFrom(table).where("property_id", "=", propertyId));
}
