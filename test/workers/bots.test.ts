/** GET /api/v1/bots in workerd against the real engine: auditable, re-classifiable bot filtering. */
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { toClickHouseRow } from "../../core/clickhouse-row.ts";
import { DAY_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { type CreatedProperty, call, createProperty, envelope } from "./helpers.ts";

let property: CreatedProperty;
let other: CreatedProperty;
const HEADLESS =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36";
// Ten days ago at noon UTC: inside the hot retention, which routes the audit to ClickHouse like any question.
const day = Math.floor(Date.now() / DAY_MS) * DAY_MS - 10 * DAY_MS + 12 * 3_600_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

beforeAll(async () => {
  property = await createProperty({ property_id: "UA-BOTS-1" });
  other = await createProperty({ property_id: "UA-BOTS-2" });
  const clickhouse = createClient({
    url: env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_DATABASE,
    keep_alive: { enabled: false },
  });
  const at = (i: number) => day + i * 1000;
  const rows = [
    ...Array.from({ length: 5 }, (_, i) =>
      makeEvent({ event_id: `h${i}`, client_id: `person${i}`, event_timestamp: at(i) }),
    ),
    ...Array.from({ length: 3 }, (_, i) =>
      makeEvent({
        event_id: `c${i}`,
        client_id: "crawler",
        event_timestamp: at(10 + i),
        user_agent: "Googlebot/2.1",
        is_bot: true,
        bot_reason: "ua_crawler",
        device_type: "bot",
      }),
    ),
    // Stored before the rules knew them: a headless browser and a datacenter visitor, both unflagged.
    makeEvent({ event_id: "old-headless", client_id: "h", event_timestamp: at(20), user_agent: HEADLESS }),
    makeEvent({ event_id: "old-dc", client_id: "dc", event_timestamp: at(21), asn: 16509 }),
  ].map((e) => toClickHouseRow({ ...e, property_id: "UA-BOTS-1" }, day));
  await clickhouse.insert({ table: "events", values: rows, format: "JSONEachRow" });
});

function report(query: string, key = property.api_key) {
  return call(`/api/v1/bots?property=UA-BOTS-1&from=${isoDay(day - DAY_MS)}&to=${isoDay(day + DAY_MS)}${query}`, {
    headers: { Authorization: `Bearer ${key}` },
  });
}

describe("GET /api/v1/bots", () => {
  it("counts stored verdicts per reason, with samples", async () => {
    const res = await report("");
    expect(res.status).toBe(200);
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      property_id: "UA-BOTS-1",
      reclassified: false,
      total_events: 10,
      human_events: 7,
      bot_events: 3,
      by_reason: [{ reason: "ua_crawler", events: 3, visitors: 1 }],
    });
    expect(body.samples).toHaveLength(3);
    expect(body.samples).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: "ua_crawler", user_agent: "Googlebot/2.1" })]),
    );
  });

  it("re-applies today's rules to stored signals on request", async () => {
    const body = await (await report("&reclassify=true")).json<{
      by_reason: { reason: string; events: number }[];
      human_events: number;
    }>();
    expect(body.by_reason.map((r) => [r.reason, r.events]).sort()).toEqual([
      ["datacenter_asn", 1],
      ["headless", 1],
      ["ua_crawler", 3],
    ]);
    expect(body.human_events).toBe(5);
  });

  it("needs this property's key, and names bad parameters", async () => {
    expect((await call("/api/v1/bots?property=UA-BOTS-1")).status).toBe(401);
    expect((await report("", other.api_key)).status).toBe(403);
    const bad = await call("/api/v1/bots?property=UA-BOTS-1&from=yesterday", {
      headers: { Authorization: `Bearer ${property.api_key}` },
    });
    expect(bad.status).toBe(400);
    expect((await envelope(bad)).error.message).toBe("from: must be a date such as 2026-11-01");
  });
});
