/**
 * A respan run again, as a retried ReplayDO alarm or erasure step runs it, against the real engine:
 * migration 0007 turns on the day rollups' deduplication window, so the second run's INSERT, the
 * same rows as the first's after the same DELETE, must not be dropped as a duplicate block.
 * Measured on chDB 26.7: its default `deduplicate_insert_select = enable_when_possible` skips
 * deduplication for this unordered GROUP BY, so the retry lands; forcing deduplication
 * (`enable_even_for_bad_queries`) drops it, and then even `insert_deduplicate = 0` does not save it.
 * This holds the engine's default to what the respan relies on.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, expect, it } from "vitest";
import { alignedCover, DAYS_TABLES, respanStatements } from "../../core/query/rollup-spans.ts";
import { DAY_MS } from "../../core/time.ts";
import { generateDataset } from "../../dev/fixtures/dataset.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const START = Date.UTC(2026, 10, 20);
const PROPERTY = "UA-RESPAN-RETRY-1";
let client: ClickHouseClient;
// Few rows: each INSERT … SELECT is one block, the same block every time (what deduplication hashes).
const data = generateDataset({ property_id: PROPERTY, start: START, days: 2, visitors: 5, seed: 3 });

/** Rows and pageviews per span of each days table: what a lost INSERT would change. */
async function blocks() {
  const out: Record<string, unknown[]> = {};
  for (const table of DAYS_TABLES)
    out[table] = await rows(
      client,
      `SELECT span, count() AS n, sum(pageviews) AS pageviews FROM ${table} WHERE property_id = {p:String} GROUP BY span ORDER BY span`,
      { p: PROPERTY },
    );
  return out;
}

async function respan(): Promise<void> {
  const [from, to] = alignedCover(START, START + 2 * DAY_MS);
  for (const table of DAYS_TABLES)
    for (const query of respanStatements(table))
      await client.command({
        query,
        query_params: { p: PROPERTY, from, to },
        // What ReplayDO sends: nothing about deduplication (the statement carries its own setting).
        clickhouse_settings: { lightweight_deletes_sync: "2" },
      });
}

beforeAll(async () => {
  ({ client } = await freshDatabase("respan_retry"));
  await client.insert({ table: "events", values: data.events, format: "JSONEachRow" });
  await client.insert({ table: "session_log", values: data.sessionLog, format: "JSONEachRow" });
}, 120_000);

it("a respan repeated after its delete writes every longer block again, as the first run did", async () => {
  const inserted = await blocks();
  expect((inserted.events_rollup_days ?? []).length).toBe(7);
  await respan();
  expect(await blocks()).toEqual(inserted);
  await respan();
  expect(await blocks()).toEqual(inserted);
  await respan();
  expect(await blocks()).toEqual(inserted);
});
