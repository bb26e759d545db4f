/**
 * The day blocks of `*_rollup_days` (migrations/clickhouse/0006_day_rollups.sql): every row is
 * kept once per span of 1, 2, 4 … 64 UTC days, in blocks aligned to the Unix epoch, so a run of
 * whole days is read as a few blocks rather than one state per day or hour — merging sketches is
 * what a query over the rollups spends its time on. Pure.
 */
import { DAY_MS } from "../time.ts";
/** Must equal the migration's `ARRAY JOIN [1, 2, 4, 8, 16, 32, 64] AS span`. */
export const SPANS = [1, 2, 4, 8, 16, 32, 64] as const;
const LONGEST = SPANS[SPANS.length - 1] ?? 1;

export interface DayBlock {
  span: number;
  /** Epoch ms of the block's first day (a multiple of span days). */
  start: number;
}

/**
 * The fewest aligned blocks covering the whole days [from, to) exactly (both multiples of a day):
 * greedy from the left, the longest block that starts here and fits. At most ~2·log2(days) + days/64.
 * `longest` 1 gives one block per day: what time buckets need, since a block is one row in time.
 */
export function dayBlocks(from: number, to: number, longest: number = LONGEST): DayBlock[] {
  if (from % DAY_MS !== 0 || to % DAY_MS !== 0) throw new Error("dayBlocks: from and to must be whole UTC days");
  const blocks: DayBlock[] = [];
  for (let day = from / DAY_MS; day < to / DAY_MS; ) {
    let span = longest;
    while (span > 1 && (day % span !== 0 || day + span > to / DAY_MS)) span /= 2;
    blocks.push({ span, start: day * DAY_MS });
    day += span;
  }
  return blocks;
}

/**
 * The range whose blocks of every span lie wholly inside it: [from, to) widened to the longest
 * span. Rebuilding the longer spans from the one-day rows over it (after a replay rewrote some
 * days) leaves every block exact.
 */
export function alignedCover(from: number, to: number): [number, number] {
  const unit = LONGEST * DAY_MS;
  return [Math.floor(from / unit) * unit, Math.ceil(to / unit) * unit];
}

const COLUMNS = {
  events_rollup_days: [
    "uniqCombinedMergeState(14)(visitors_p14) AS visitors_p14",
    "uniqCombinedMergeState(12)(visitors_p12) AS visitors_p12",
    "uniqCombinedMergeState(12)(visits_p12) AS visits_p12",
    "sum(pageviews) AS pageviews",
    "sum(events) AS events",
  ],
  sessions_rollup_days: [
    "uniqCombinedMergeState(14)(visitors_p14) AS visitors_p14",
    "uniqCombinedMergeState(12)(visitors_p12) AS visitors_p12",
    "sum(visits) AS visits",
    "sum(bounces) AS bounces",
    "sum(duration) AS duration",
    "sum(pageviews) AS pageviews",
    "sum(events) AS events",
  ],
} as const;
export type DaysTable = keyof typeof COLUMNS;
export const DAYS_TABLES = Object.keys(COLUMNS) as DaysTable[];

/**
 * Two statements that rebuild a property's blocks longer than a day over [from, to) (an
 * `alignedCover`) from its one-day rows: delete them, derive them again. Parameters: p (String),
 * from and to (Int64, epoch ms). A retried respan writes the same block after its delete, which
 * the tables' deduplication window (migration 0007) would drop on an engine that deduplicates
 * INSERT … SELECT: the INSERT says `insert_deduplicate = 0` itself, whoever runs it. (ClickHouse
 * 26.7 skips it anyway for this unordered SELECT: test/integration/rollup-respan-retry.test.ts.)
 */
export function respanStatements(table: DaysTable): [string, string] {
  const range =
    "property_id = {p:String} AND day >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND day < fromUnixTimestamp64Milli({to:Int64}, 'UTC')";
  const longer = `[${SPANS.filter((s) => s > 1).join(", ")}]`;
  return [
    `DELETE FROM ${table} WHERE ${range} AND span > 1`,
    `INSERT INTO ${table} SETTINGS insert_deduplicate = 0 SELECT property_id, dim, s, toDateTime(intDiv(toUInt32(day), 86400 * s) * 86400 * s, 'UTC') AS block, is_bot, value, ${COLUMNS[table].join(", ")} FROM ${table} ARRAY JOIN ${longer} AS s WHERE ${range} AND span = 1 GROUP BY property_id, dim, s, block, is_bot, value`,
  ];
}
