/**
 * The event log is the truth (issue #7): traffic through /collect lands in ClickHouse and in the
 * Parquet archive; every report is recorded; the ClickHouse tables are dropped and recreated;
 * `npm run replay` rebuilds them from the archive — and every report answers identically, twice.
 */
import { spawn } from "node:child_process";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { prng } from "../../dev/fixtures/dataset.ts";
import { type DevStack, startDevStack } from "../../dev/stack.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { migrate } from "../../migrations/migrator.ts";

const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const HOUR = 3_600_000;
let stack: DevStack;
let clickhouse: ClickHouseClient;
let sent = 0;
const now = Date.now();
const days = [0, 1, 2, 3].map((d) => new Date(now - (3 - d) * 24 * HOUR).toISOString().slice(0, 10));
const [first, last] = [days[0] ?? "", days[3] ?? ""];

beforeAll(async () => {
  stack = await startDevStack();
  clickhouse = createClient({ url: stack.clickhouseUrl, ...stack.clickhouseAuth });
  const rnd = prng(42);
  const events: Record<string, unknown>[] = [];
  for (let v = 0; v < 40; v++) {
    for (let visit = 0; visit < 1 + Math.floor(rnd() * 3); visit++) {
      let t = now - 5 * 60_000 - Math.floor(rnd() * 68 * HOUR);
      const referrer = ["", "https://www.google.com/", "https://news.ycombinator.com/"][Math.floor(rnd() * 3)];
      for (let e = 0; e < 1 + Math.floor(rnd() * 4); e++) {
        const page = ["/", "/pricing", "/blog/launch", "/docs"][Math.floor(rnd() * 4)];
        events.push({
          property_id: "UA-DEMO-1",
          client_id: `replay-${v}`,
          event_id: `replay-${v}-${visit}-${e}`,
          event_type: e > 0 && rnd() < 0.2 ? "signup" : "pageview",
          event_timestamp: t,
          page_url: `https://example.com${page}${e === 0 && rnd() < 0.3 ? "?utm_source=newsletter&utm_campaign=autumn" : ""}`,
          ...(e === 0 && referrer ? { referrer } : {}),
        });
        t += Math.floor(rnd() * 10 * 60_000);
      }
    }
  }
  for (let i = 0; i < events.length; i += 20) {
    const res = await fetch(`${stack.url}/collect`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": UA },
      body: JSON.stringify(events.slice(i, i + 20)),
    });
    expect(res.status).toBe(202);
  }
  sent = events.length;
  // The consumer archives each batch before it writes ClickHouse: once every event is in the
  // events table, every event is in the archive (as staging files the replay splits first).
  await vi.waitFor(async () => expect(await count("events")).toBe(sent), { timeout: 30_000, interval: 500 });
  // Each batch's sessions are logged just after its events: wait until they stop changing.
  let sessions = -1;
  await vi.waitFor(
    async () => {
      const now = await count("sessions FINAL");
      const settled = now > 0 && now === sessions;
      sessions = now;
      expect(settled).toBe(true);
    },
    { timeout: 30_000, interval: 2_000 },
  );
}, 240_000);

afterAll(async () => {
  if (process.env.TALLY_E2E_LOG)
    (await import("node:fs")).writeFileSync(process.env.TALLY_E2E_LOG, stack?.output() ?? "");
  await stack?.stop();
});

async function count(table: string): Promise<number> {
  const r = await clickhouse.query({ query: `SELECT count() AS n FROM ${table}`, format: "JSONEachRow" });
  return Number((await r.json<{ n: string }>())[0]?.n);
}

const REPORTS = [
  "overview",
  "pages",
  "entry_pages",
  "exit_pages",
  "sources",
  "campaigns",
  "devices",
  "browsers",
  "events",
];
const steps = encodeURIComponent(
  JSON.stringify([
    { kind: "page", value: "/" },
    { kind: "page", value: "/pricing" },
    { kind: "event", value: "signup" },
  ]),
);

async function answers(): Promise<Record<string, unknown>> {
  const get = async (path: string) => {
    const res = await fetch(`${stack.url}${path}`, {
      headers: { Authorization: `Bearer ${stack.demoKey}`, "Cache-Control": "no-cache" },
    });
    expect(res.status, path).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    delete body.meta;
    return body;
  };
  const range = `property=UA-DEMO-1&start=${first}&end=${last}&timezone=UTC&limit=100`;
  const out: Record<string, unknown> = {};
  for (const report of REPORTS) out[report] = await get(`/api/v1/reports?${range}&report=${report}`);
  out.funnel = await get(`/api/v1/reports?${range}&report=funnel&steps=${steps}`);
  out.retention = await get(`/api/v1/reports?${range}&report=retention`);
  const q = {
    property_id: "UA-DEMO-1",
    metrics: ["visitors", "visits", "pageviews", "bounce_rate", "avg_session_duration"],
    dimensions: ["time:hour", "visit:source"],
    filters: [["contains_not", "event:page", ["/docs"]]],
    date_range: [first, last],
    timezone: "UTC",
    limit: 1000,
  };
  out.query = await get(`/api/v1/query?q=${encodeURIComponent(JSON.stringify(q))}`);
  return out;
}

/** Runs `npm run replay` as a person would; async, so the dev stack's output keeps draining meanwhile. */
async function replay(target: string): Promise<string> {
  const child = spawn(process.execPath, ["scripts/replay.ts", "--from", first, "--to", last, "--target", target], {
    env: { ...process.env, TALLY_URL: stack.url, ADMIN_TOKEN: stack.adminToken },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code, out).toBe(0);
  return out;
}

it("rebuilds every report identically from the archive, and again when run twice", async () => {
  const before = await answers();
  expect((before.overview as { pageviews: number }).pageviews).toBeGreaterThan(50);
  const sessionsBefore = await count("sessions FINAL");

  const tables = await clickhouse.query({
    query:
      "SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY engine = 'MaterializedView' DESC",
    format: "JSONEachRow",
  });
  for (const t of await tables.json<{ name: string }>()) await clickhouse.command({ query: `DROP TABLE ${t.name}` });
  await migrate(clickhouse, readClickHouseMigrations());
  expect(await count("events")).toBe(0);

  // No wait and no second try: what reached ClickHouse had been archived before it.
  const out = await replay("clickhouse");
  expect(out).toMatch(/done in .* s: \d+ archived events read/);
  expect(await count("events")).toBe(sent);
  expect(await count("sessions FINAL")).toBe(sessionsBefore);
  expect(await answers()).toEqual(before);

  await replay("all");
  expect(await count("events")).toBe(sent);
  expect(await answers()).toEqual(before);
}, 480_000);
