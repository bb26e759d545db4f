/**
 * The `alerts` table (migration 0010) against the real engine: its columns are the rows
 * platform/alerts-sink.ts inserts, a retried insert is dropped by its token, and a resolve
 * replaces the open row (one row per alert under FINAL), keeping the alert's times to the ms.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../core/config.ts";
import type { Alert } from "../../core/ops/alerts.ts";
import { ALERT_COLUMNS, insertAlert } from "../../platform/alerts-sink.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

let client: ClickHouseClient;
let insert: (alert: Alert) => Promise<void>;

beforeAll(async () => {
  const fresh = await freshDatabase("alerts");
  client = fresh.client;
  const config = ConfigSchema.parse({ CLICKHOUSE_URL: fresh.url, CLICKHOUSE_DATABASE: fresh.database });
  insert = (alert) => insertAlert(config, alert);
});

const opened: Alert = {
  alert_id: "al_test_1",
  property_id: "UA-CONTRACT-1",
  kind: "source_vanished",
  metric: "source",
  subject: "Google",
  status: "open",
  opened_at: Date.UTC(2026, 11, 2, 10, 31),
  resolved_at: null,
  minute: Date.UTC(2026, 11, 2, 10, 30),
  observed: 0,
  expected: 4.25,
  deviation: 0.4,
  message: "Source Google stopped sending visitors",
};

const latest = () =>
  rows<Record<string, unknown>>(
    client,
    "SELECT alert_id, status, toUnixTimestamp64Milli(opened_at) AS opened, toUnixTimestamp64Milli(resolved_at) AS resolved, version, count() OVER () AS n FROM alerts FINAL WHERE property_id = 'UA-CONTRACT-1'",
  );

describe("the alerts table", () => {
  it("has exactly the columns the sink writes, in order", async () => {
    const columns = await rows<{ name: string; type: string }>(
      client,
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'alerts' ORDER BY position",
    );
    expect(columns).toEqual(Object.entries(ALERT_COLUMNS).map(([name, type]) => ({ name, type })));
  });

  it("drops a retried insert and lets the resolve replace the open row", async () => {
    await insert(opened);
    await insert(opened);
    const [all] = await rows<{ n: string }>(client, "SELECT count() AS n FROM alerts");
    expect(Number(all?.n)).toBe(1);

    const resolvedAt = Date.UTC(2026, 11, 2, 10, 47, 0, 123);
    await insert({ ...opened, status: "resolved", resolved_at: resolvedAt });
    await insert({ ...opened, status: "resolved", resolved_at: resolvedAt });
    expect(await latest()).toEqual([
      {
        alert_id: "al_test_1",
        status: "resolved",
        opened: String(opened.opened_at),
        resolved: String(resolvedAt),
        version: 2,
        n: "1",
      },
    ]);
    // Merged for good: still the resolved row, whichever insert reached the part first.
    await client.command({ query: "OPTIMIZE TABLE alerts FINAL" });
    const [kept] = await rows<{ status: string; subject: string; expected: number }>(
      client,
      "SELECT status, subject, expected FROM alerts",
    );
    expect(kept).toEqual({ status: "resolved", subject: "Google", expected: 4.25 });
  });
});
