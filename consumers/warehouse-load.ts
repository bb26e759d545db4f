/**
 * The hourly load's shell (issue #16): reads one closed UTC hour from the Parquet archive
 * (consumers/warehouse-archive.ts), reads the sessions next to it from the warehouse, and
 * replaces the hour in ONE transaction: its events, the neighbouring sessions' events and every
 * session row it touches are deleted and inserted again (Redshift has no ON CONFLICT), so a re-run
 * replaces the hour and never doubles it. The pure step is core/warehouse/load.ts.
 *
 * Loads serialise on a table lock taken first in the transaction: two loads of adjacent hours
 * (the schedule and a late-event reload) rewrite the same crossing sessions, and each must read
 * what the other committed.
 *
 * Not done: Redshift's `COPY … FORMAT AS PARQUET`. The archive's files hold no session ids (the
 * reducer gives them here) and their maps are Parquet MAPs, which COPY cannot load into the
 * VARCHAR JSON columns; a COPY path would stage Parquet written by this job. Batched INSERTs serve
 * PostgreSQL and Redshift alike meanwhile.
 */
import { type Expression, type ExpressionBuilder, type SqlBool, sql, type Transaction } from "kysely";
import type { ArchiveStore } from "../core/archive/store.ts";
import { HOUR_MS } from "../core/time.ts";
import { AGGREGATES_JOB, dayOf, dayStart } from "../core/warehouse/jobs.ts";
import {
  chunks,
  IN_LIST_CHUNK,
  INSERT_BATCH_ROWS,
  neighbourWindows,
  planHourLoad,
  type SessionKey,
  visitorsOf,
} from "../core/warehouse/load.ts";
import type { WarehouseDatabase, WarehouseEventRow, WarehouseSessionRow } from "../core/warehouse/schema.ts";
import type { Warehouse } from "../platform/warehouse.ts";
import { type LoadScope, readArchiveHour } from "./warehouse-archive.ts";

export interface HourLoadResult {
  hour: number;
  /** Properties with events in the hour (their data changed; the others in scope hold none). */
  properties: string[];
  /** Properties whose rows of the hour were replaced. */
  scope: number;
  archived: number;
  events: number;
  sessions: number;
}

type Events = ExpressionBuilder<WarehouseDatabase, "events">;
type Pairs = ReadonlyMap<string, readonly string[]>;

/** `(property_id = p AND column IN (…)) OR …` per chunk of pairs: portable, where row-value IN is not. */
function pairChunks(pairs: Pairs): Map<string, string[]>[] {
  const flat = [...pairs].flatMap(([p, ids]) => ids.map((id) => [p, id] as const));
  return chunks(flat, IN_LIST_CHUNK).map((chunk) => {
    const grouped = new Map<string, string[]>();
    for (const [p, id] of chunk) grouped.set(p, [...(grouped.get(p) ?? []), id]);
    return grouped;
  });
}

function matchPairs(eb: Events, column: "client_id" | "session_id", pairs: Pairs): Expression<SqlBool> {
  return eb.or([...pairs].map(([p, ids]) => eb.and([eb("property_id", "=", p), eb(column, "in", [...ids])])));
}

function matchSessions(eb: ExpressionBuilder<WarehouseDatabase, "sessions">, pairs: Pairs): Expression<SqlBool> {
  return eb.or([...pairs].map(([p, ids]) => eb.and([eb("property_id", "=", p), eb("session_id", "in", [...ids])])));
}

const inHour = (eb: Events, from: number, to: number) =>
  eb.and([eb("event_timestamp", ">=", new Date(from)), eb("event_timestamp", "<", new Date(to))]);

const targets = new WeakMap<Warehouse, Promise<boolean>>();

/** Whether the warehouse is Redshift (its LOCK has no modes); asked once per client. */
function isRedshift(db: Warehouse): Promise<boolean> {
  let hit = targets.get(db);
  if (!hit) {
    hit = sql<{ version: string }>`SELECT version() AS version`
      .execute(db)
      .then((r) => /redshift/i.test(r.rows[0]?.version ?? ""));
    targets.set(db, hit);
  }
  return hit;
}

/** Rows per statement on PostgreSQL, as one JSON parameter. */
const JSON_INSERT_ROWS = 5_000;

/**
^ * Inserts rows in batches (the load job's, and bench/warehouse-query.ts's fill). Redshift: multi-row VALUES (its docs' batched insert; COPY is the fast
 * path, see above). PostgreSQL: the rows as one JSON parameter expanded by json_populate_recordset
 * into the table's own row type — a 500-row VALUES list is 23,000 parameters for the server to
 * parse and plan, and bench/warehouse-load.ts measured ~3,500 rows/s that way.
 */
export async function insertRows(
  trx: Transaction<WarehouseDatabase>,
  batch:
    | { table: "events"; rows: readonly WarehouseEventRow[] }
    | { table: "sessions"; rows: readonly WarehouseSessionRow[] },
  redshift: boolean,
): Promise<void> {
  if (redshift) {
    if (batch.table === "events")
      for (const rows of chunks(batch.rows, INSERT_BATCH_ROWS)) await trx.insertInto("events").values(rows).execute();
    else
      for (const rows of chunks(batch.rows, INSERT_BATCH_ROWS)) await trx.insertInto("sessions").values(rows).execute();
    return;
  }
  // The maps are JSON columns: sent as objects, not as JSON strings inside the JSON.
  const objects: readonly object[] =
    batch.table === "events"
      ? batch.rows.map((r) => ({
          ...r,
          custom_dimensions: JSON.parse(r.custom_dimensions) as unknown,
          custom_metrics: JSON.parse(r.custom_metrics) as unknown,
        }))
      : batch.rows;
  // Dates travel as ISO text with a Z, which a TIMESTAMP (without time zone) column reads as UTC
  // wall time: the zone is ignored, and the text is UTC already.
  for (const rows of chunks(objects, JSON_INSERT_ROWS))
    await sql`INSERT INTO ${sql.table(batch.table)} SELECT * FROM json_populate_recordset(NULL::${sql.table(batch.table)}, ${JSON.stringify(rows)}::json)`.execute(
      trx,
    );
}

/** Serialises loads; readers (queries) go on. */
async function lockForLoad(trx: Transaction<WarehouseDatabase>, redshift: boolean): Promise<void> {
  if (redshift) await sql`LOCK sessions`.execute(trx);
  else await sql`LOCK TABLE sessions IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
}

/** The sessions the warehouse gives the hour's events now, and the whole sessions next to the hour. */
async function readAround(
  trx: Transaction<WarehouseDatabase>,
  hour: number,
  properties: readonly string[],
  visitors: Pairs,
): Promise<{ previous: SessionKey[]; neighbours: WarehouseEventRow[] }> {
  const previous: SessionKey[] = [];
  for (const chunk of chunks(properties, IN_LIST_CHUNK))
    previous.push(
      ...(await trx
        .selectFrom("events")
        .select(["property_id", "session_id"])
        .distinct()
        .where((eb) => eb.and([eb("property_id", "in", chunk), inHour(eb, hour, hour + HOUR_MS)]))
        .execute()),
    );
  const { before, after } = neighbourWindows(hour);
  const ids = new Map<string, Set<string>>();
  for (const chunk of pairChunks(visitors)) {
    const rows = await trx
      .selectFrom("events")
      .select(["property_id", "session_id"])
      .distinct()
      .where((eb) =>
        eb.and([
          matchPairs(eb, "client_id", chunk),
          eb.or([inHour(eb, before[0], before[1]), inHour(eb, after[0], after[1])]),
        ]),
      )
      .execute();
    for (const r of rows) ids.set(r.property_id, (ids.get(r.property_id) ?? new Set()).add(r.session_id));
  }
  const neighbours: WarehouseEventRow[] = [];
  const sessions = new Map([...ids].map(([p, s]) => [p, [...s]]));
  for (const chunk of pairChunks(sessions))
    neighbours.push(
      ...(await trx
        .selectFrom("events")
        .selectAll()
        .where((eb) =>
          eb.and([
            matchPairs(eb, "session_id", chunk),
            eb.or([eb("event_timestamp", "<", new Date(hour)), eb("event_timestamp", ">=", new Date(hour + HOUR_MS))]),
          ]),
        )
        .execute()),
    );
  return { previous, neighbours };
}

/**
 * Loads one hour: the archive read first (outside the transaction), then under the lock the
 * warehouse's side read, the rows computed, the old ones deleted and the new ones inserted in
 * batches. The day's aggregates run is deleted in the same transaction: they are due again.
 */
export async function loadHour(
  db: Warehouse,
  store: ArchiveStore,
  hour: number,
  scope: LoadScope,
): Promise<HourLoadResult> {
  const { archived, properties } = await readArchiveHour(store, hour, scope);
  const redshift = await isRedshift(db);
  const visitors = visitorsOf(archived);
  return db.transaction().execute(async (trx) => {
    await lockForLoad(trx, redshift);
    const around = await readAround(trx, hour, properties, visitors);
    const plan = planHourLoad({ hour, archived, ...around });
    for (const chunk of chunks(properties, IN_LIST_CHUNK))
      await trx
        .deleteFrom("events")
        .where((eb) => eb.and([eb("property_id", "in", chunk), inHour(eb, hour, hour + HOUR_MS)]))
        .execute();
    for (const chunk of pairChunks(plan.rewrittenSessions))
      await trx
        .deleteFrom("events")
        .where((eb) => matchPairs(eb, "session_id", chunk))
        .execute();
    for (const chunk of pairChunks(plan.touchedSessions))
      await trx
        .deleteFrom("sessions")
        .where((eb) => matchSessions(eb, chunk))
        .execute();
    await insertRows(trx, { table: "events", rows: plan.events }, redshift);
    await insertRows(trx, { table: "sessions", rows: plan.sessions }, redshift);
    await trx
      .deleteFrom("job_runs")
      .where("job", "=", AGGREGATES_JOB)
      .where("period_start", "=", new Date(dayStart(dayOf(hour))))
      .execute();
    return {
      hour,
      properties: [...visitors.keys()].sort(),
      scope: properties.length,
      archived: archived.length,
      events: plan.events.length,
      sessions: plan.sessions.length,
    };
  });
}
