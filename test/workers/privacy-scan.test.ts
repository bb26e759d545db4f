/**
 * The privacy scan (issue #17): traffic from known IPv4 and IPv6 addresses, through /collect, the
 * Plausible, GA4 and Umami endpoints and the import, flows through the real consumer into the
 * archive, the actors, ClickHouse and the warehouse. Then every store is read back in full —
 * every ClickHouse table's rows, every archive object's bytes and decoded records, every Durable
 * Object's storage, the warehouse's rows, the queue messages and everything written to the
 * console — and no address may appear in any of it. Nor may the secrets the page URLs and
 * referrers carried in their query strings.
 */
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  listDurableObjectIds,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadHour } from "../../consumers/warehouse-load.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { listAll } from "../../core/archive/store.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { HOUR_MS } from "../../core/time.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { openWarehouse } from "../../platform/warehouse.ts";
import worker from "../../workers/main.ts";
import { type CreatedProperty, call, createProperty, sentMessage } from "./helpers.ts";

/** The visitors' addresses, one per way in, as the headers carry them. */
const IPS = {
  collect: "192.0.2.147",
  collectForwarded: "198.51.100.239",
  plausible: "2001:db8:c0de:17::a11",
  plausibleForwarded: "2001:0db8:0bad:0042:0000:0000:0000:0099",
  ga4: "203.0.113.201",
  umami: "2001:db8:feed:42::beef",
  import: "198.51.100.77",
  refused: "203.0.113.66",
};
/** Each address as it could be written: as sent, and IPv6 in its compressed form. */
const NEEDLES = [...Object.values(IPS), "2001:db8:bad:42::99"];
/** What page URLs and referrers carried in their query strings. */
const SECRETS = ["RESET-TOKEN-5f2c", "jane.doe%40example.com", "jane.doe@example.com", "SESSION-9a7b"];
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const UMAMI_ID = "8d1f0c3e-2b7a-4c55-9e61-5a3f2d9b7c14";

const logs: string[] = [];
const sent: EventsMessage[] = [];
let site: CreatedProperty;
let ga: CreatedProperty;

/** Text of anything a store returns: JSON, with bytes as Latin-1 so any ASCII inside them shows. */
function text(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof ArrayBuffer) return latin1(new Uint8Array(v));
    if (ArrayBuffer.isView(v)) return latin1(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (v instanceof Map) return [...v.entries()];
    if (typeof v === "bigint") return String(v);
    return v;
  });
}

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** The needles found in `haystack`, labelled with where. */
function found(where: string, haystack: string, needles: readonly string[] = NEEDLES): string[] {
  const lower = haystack.toLowerCase();
  return needles.filter((n) => lower.includes(n.toLowerCase())).map((n) => `${n} in ${where}`);
}

function post(path: string, body: unknown, ip: string, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "User-Agent": UA, "CF-Connecting-IP": ip, "Content-Type": "application/json", ...headers },
  });
}

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logs.push(args.map((a) => (a instanceof Error ? `${a.stack}` : typeof a === "string" ? a : text(a))).join(" "));
    });
  const send = env.EVENTS_QUEUE.sendBatch.bind(env.EVENTS_QUEUE);
  vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockImplementation(async (batch, options) => {
    for (const m of batch) sent.push(sentMessage(m));
    return send(batch, options);
  });

  site = await createProperty({ property_id: "PS-SITE-1", domains: ["privacy.example"] });
  ga = await createProperty({ property_id: "G-PRIVACY1", domains: ["shop.example"] });
  await createProperty({ property_id: UMAMI_ID, domains: ["umami.example"] });

  const page = "https://privacy.example/reset?token=RESET-TOKEN-5f2c&email=jane.doe%40example.com&utm_source=news";
  const referrer = "https://mail.example/inbox?u=jane.doe%40example.com&sid=SESSION-9a7b";
  const results = [
    // Cookieless (no client_id): the visitor id is a keyed hash of the address.
    await post(
      "/collect",
      { events: [{ property_id: site.property_id, event_type: "pageview", page_url: page, referrer }] },
      IPS.collect,
      { "X-Forwarded-For": IPS.collectForwarded, Origin: "https://privacy.example" },
    ),
    await post("/api/event", { n: "pageview", u: page, d: "privacy.example", r: referrer }, IPS.plausible, {
      "X-Forwarded-For": IPS.plausibleForwarded,
      "Content-Type": "text/plain",
    }),
    await post(
      `/mp/collect?measurement_id=${ga.property_id}&api_secret=${ga.mp_api_secret}`,
      {
        client_id: "555.777",
        events: [{ name: "page_view", params: { page_location: "https://shop.example/p?session=SESSION-9a7b" } }],
      },
      IPS.ga4,
    ),
    await post(
      "/api/send",
      {
        type: "event",
        payload: { website: UMAMI_ID, hostname: "umami.example", url: "/docs?token=RESET-TOKEN-5f2c", referrer },
      },
      IPS.umami,
    ),
    await post(
      `/api/v1/import?property=${site.property_id}`,
      `${JSON.stringify({ client_id: "imported-1", event_type: "pageview", page_url: page, event_timestamp: new Date(Date.now() - 5 * 86_400_000).toISOString(), user_agent: UA })}\n`,
      IPS.import,
      {
        Authorization: `Bearer ${site.api_key}`,
        "Content-Type": "application/x-ndjson",
        "X-Forwarded-For": IPS.import,
      },
    ),
  ];
  expect(results.map((r) => r.status)).toEqual([202, 202, 204, 200, 200]);
  // Refused traffic leaves its traces too (rate limits, logs): a wrong key, a foreign origin.
  const refused = [
    await post(`/api/v1/import?property=${site.property_id}`, "{}\n", IPS.refused, {
      Authorization: `Bearer ${"x".repeat(40)}`,
    }),
    await post(
      "/collect",
      { events: [{ property_id: site.property_id, event_type: "pageview", page_url: page }] },
      IPS.refused,
      { Origin: "https://elsewhere.example" },
    ),
  ];
  expect(refused.map((r) => r.status)).toEqual([401, 403]);
  expect(sent.flatMap((m) => m.events)).toHaveLength(5);

  // The consumer, as the queue delivers: archive, actors, ClickHouse.
  const batch = createMessageBatch(
    "events",
    sent.map((body, i) => ({ id: `privacy-scan-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(sent.length);

  // The warehouse: each hour the events fell in, loaded for these properties.
  const db = openWarehouse(env.WAREHOUSE_URL, { max: 1 });
  try {
    const hours = new Set(sent.flatMap((m) => m.events.map((e) => Math.floor(e.event_timestamp / HOUR_MS) * HOUR_MS)));
    const properties = [site.property_id, ga.property_id, UMAMI_ID];
    for (const hour of hours) await loadHour(db, await archiveStore(env), hour, { properties, exact: true });
  } finally {
    await db.destroy();
  }
});

afterAll(() => vi.restoreAllMocks());

describe("the privacy scan", () => {
  it("finds no address in the queue messages the edge sent", () => {
    expect(found("the queue messages", text(sent))).toEqual([]);
    expect(found("the queue messages", text(sent), SECRETS)).toEqual([]);
  });

  it("finds no address in any ClickHouse table, every column read as text", async () => {
    const clickhouse = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
    const tables = await (
      await clickhouse.query({
        query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View'",
        format: "JSONEachRow",
      })
    ).json<{ name: string }>();
    expect(tables.map((t) => t.name)).toContain("events");
    const hits: string[] = [];
    let ours = 0;
    for (const { name } of tables) {
      const rows = await (await clickhouse.query({ query: `SELECT * FROM \`${name}\``, format: "JSONEachRow" })).text();
      if (name === "events") ours = rows.split("\n").filter((r) => r.includes('"PS-SITE-1"')).length;
      hits.push(...found(`ClickHouse ${name}`, rows), ...found(`ClickHouse ${name}`, rows, SECRETS));
    }
    expect(ours).toBeGreaterThanOrEqual(3);
    expect(hits).toEqual([]);
    await clickhouse.close();
  });

  it("finds no address in any archive object, as bytes or as decoded records", async () => {
    const store = await archiveStore(env);
    const objects = await listAll(store, "");
    const hits: string[] = [];
    let records = 0;
    for (const { key } of objects) {
      const body = (await store.get(key))?.body ?? new Uint8Array();
      hits.push(...found(`${key} (bytes)`, latin1(body)), ...found(`${key} (bytes)`, latin1(body), SECRETS));
      if (!key.endsWith(".parquet")) continue;
      const decoded = await decodeArchiveFile(body, zstdCodec);
      records += decoded.length;
      hits.push(...found(`${key} (records)`, text(decoded)), ...found(`${key} (records)`, text(decoded), SECRETS));
    }
    expect(records).toBeGreaterThanOrEqual(5);
    expect(hits).toEqual([]);
  });

  it("finds no address in any Durable Object's storage", async () => {
    // Every Durable Object binding, so an actor added later is scanned too.
    const namespaces = Object.entries(env).filter(
      (entry): entry is [string, DurableObjectNamespace] => entry[1]?.constructor?.name === "DurableObjectNamespace",
    );
    expect(namespaces.map(([name]) => name)).toEqual(
      expect.arrayContaining(["SESSION_DO", "PROPERTY_DO", "REGISTRY_DO"]),
    );
    const hits: string[] = [];
    let objects = 0;
    const dumps: string[] = [];
    for (const [name, namespace] of namespaces) {
      for (const id of await listDurableObjectIds(namespace)) {
        objects++;
        const dump = await runInDurableObject(namespace.get(id), async (_instance, state) => {
          const parts: unknown[] = [await state.storage.list()];
          try {
            const tables = state.storage.sql
              .exec<{ name: string }>(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'",
              )
              .toArray();
            for (const t of tables) parts.push(t.name, state.storage.sql.exec(`SELECT * FROM "${t.name}"`).toArray());
          } catch {
            // A key-value-backed object has no SQL storage; its list() above is all of it.
          }
          return text(parts);
        });
        dumps.push(dump);
        hits.push(...found(`${name} ${id.toString()}`, dump), ...found(`${name} ${id.toString()}`, dump, SECRETS));
      }
    }
    expect(objects).toBeGreaterThanOrEqual(3);
    expect(dumps.join("\n")).toContain("/reset");
    expect(hits).toEqual([]);
  });

  it("finds no address in the warehouse", async () => {
    const db = openWarehouse(env.WAREHOUSE_URL, { max: 1 });
    try {
      const events = await db
        .selectFrom("events")
        .selectAll()
        .where("property_id", "in", [site.property_id, ga.property_id, UMAMI_ID])
        .execute();
      const sessions = await db
        .selectFrom("sessions")
        .selectAll()
        .where("property_id", "in", [site.property_id, ga.property_id, UMAMI_ID])
        .execute();
      expect(events.length).toBeGreaterThanOrEqual(5);
      const all = text([events, sessions]);
      expect([...found("the warehouse", all), ...found("the warehouse", all, SECRETS)]).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it("finds no address in anything written to the console", () => {
    // The consumer's metrics at least: proof that the console is captured.
    expect(logs.some((l) => l.includes("consumer_batch"))).toBe(true);
    const all = logs.join("\n");
    expect([...found("the console", all), ...found("the console", all, SECRETS)]).toEqual([]);
  });
});
