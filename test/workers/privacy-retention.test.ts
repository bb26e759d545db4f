/**
 * The Cron Trigger's privacy jobs in workerd (consumers/privacy-retention.ts): the archive's raw
 * user agents go once their day is past RAW_USER_AGENT_DAYS (the consumer archived them through
 * R2), its days once past ARCHIVE_RETENTION_DAYS, and ClickHouse's TTLs follow the configured
 * days, re-issued only when they differ.
 */
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyClickHouseTtls, runArchiveRetention, runRawUserAgentPass } from "../../consumers/privacy-retention.ts";
import { readManifest } from "../../core/archive/compaction-step.ts";
import { hourPrefix, liveFiles, partitionOf } from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { listAll } from "../../core/archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../../core/event.ts";
import { columnTtl, TABLE_DDL_SQL } from "../../core/privacy/ttl.ts";
import { DAY_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { consumeMessage, createProperty } from "./helpers.ts";

const PROPERTY = "PR-SITE-1";
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const day = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const OLD = day - 40 * DAY_MS + 9 * 3_600_000;
const RECENT = day - 3 * DAY_MS + 9 * 3_600_000;

/** The property's user agents in the hour's readable files: its own and the pooled ones (few rows are pooled). */
async function userAgents(at: number): Promise<(string | undefined)[]> {
  const store = await archiveStore(env);
  const out: (string | undefined)[] = [];
  for (const p of [partitionOf(PROPERTY, at), partitionOf(POOLED_ARCHIVE_ID, at)]) {
    const keys = (await listAll(store, hourPrefix(p))).map((o) => o.key);
    for (const key of liveFiles(keys, (await readManifest(store, p)).manifest))
      for (const r of await decodeArchiveFile((await store.get(key))?.body ?? new Uint8Array(), zstdCodec))
        if (r.property_id === PROPERTY) out.push(r.user_agent);
  }
  return out;
}

describe("the archive's raw-user-agent pass from the cron", () => {
  beforeAll(async () => {
    await createProperty({ property_id: PROPERTY });
    const events = [OLD, RECENT].flatMap((at, i) =>
      [0, 1, 2].map((k) =>
        makeEvent({ property_id: PROPERTY, event_id: `pr-${i}-${k}`, event_timestamp: at + k, user_agent: UA }),
      ),
    );
    expect((await consumeMessage("privacy-retention-1", events)).explicitAcks).toHaveLength(1);
  });

  it("drops the user agents of days past RAW_USER_AGENT_DAYS and keeps newer ones, once", async () => {
    expect([...(await userAgents(OLD)), ...(await userAgents(RECENT))]).toEqual(Array(6).fill(UA));
    const report = await runRawUserAgentPass(env, Date.now() + 60_000);
    expect(report).toMatchObject({ rows_changed: 3, errors: [] });
    expect(report.progress).toEqual({ version: 1, day: day - 31 * DAY_MS, after: null });
    expect(await userAgents(OLD)).toEqual([undefined, undefined, undefined]);
    expect(await userAgents(RECENT)).toEqual([UA, UA, UA]);
    expect(await runRawUserAgentPass(env, Date.now() + 60_000)).toMatchObject({ partitions: 0, rows_changed: 0 });
  });

  it("deletes the days past ARCHIVE_RETENTION_DAYS by event time and keeps newer ones", async () => {
    const shorter = { ...env, ARCHIVE_RETENTION_DAYS: "35" };
    const report = await runArchiveRetention(shorter, Date.now() + 60_000);
    expect(report.day).toBe(day - 35 * DAY_MS);
    expect(report.objects_deleted).toBeGreaterThanOrEqual(2);
    expect(await userAgents(OLD)).toEqual([]);
    expect(await userAgents(RECENT)).toEqual([UA, UA, UA]);
  });
});

describe("ClickHouse TTLs from the cron", () => {
  const database = `tally_ttl_${crypto.randomUUID().slice(0, 8)}`;
  const clickhouse = createClient({ url: env.CLICKHOUSE_URL, keep_alive: { enabled: false } });

  beforeAll(async () => {
    await clickhouse.command({ query: `CREATE DATABASE ${database}` });
    await clickhouse.command({ query: `CREATE TABLE ${database}.events AS ${env.CLICKHOUSE_DATABASE}.events` });
  });
  afterAll(async () => {
    await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  });

  it("re-issues only the TTLs whose days differ from the configuration, once", async () => {
    const configured = {
      ...env,
      CLICKHOUSE_DATABASE: database,
      RAW_USER_AGENT_DAYS: "7",
      ARCHIVE_RETENTION_DAYS: "730",
    };
    expect(await applyClickHouseTtls({ ...env, CLICKHOUSE_DATABASE: database })).toEqual([]);
    expect(await applyClickHouseTtls(configured)).toEqual([
      "ALTER TABLE events MODIFY COLUMN user_agent TTL toDateTime(event_timestamp) + INTERVAL 7 DAY",
    ]);
    expect(await applyClickHouseTtls({ ...configured })).toEqual([]);
    const rows = await (
      await clickhouse.query({
        query: TABLE_DDL_SQL.replace("currentDatabase()", `'${database}'`),
        format: "JSONEachRow",
      })
    ).json<{ create_table_query: string }>();
    expect(columnTtl(rows[0]?.create_table_query ?? "", "user_agent")).toBe(
      "toDateTime(event_timestamp) + toIntervalDay(7)",
    );
  });
});
