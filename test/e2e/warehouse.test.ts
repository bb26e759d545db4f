/**
 * Deep history on the dev stack (issue #16), as an analyst meets it. History imported from 200 days
 * ago — beyond ClickHouse's 90 hot days — answers the 12-month query within a minute before any
 * scheduled warehouse load (from ClickHouse, which has dropped nothing) and after one (from the
 * warehouse up to its frontier, ClickHouse after it, merged), with the same numbers; more history
 * imported afterwards answers within a minute too; the day's aggregates are there for psql.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WAREHOUSE_CRON } from "../../consumers/schedule.ts";
import { prng } from "../../dev/fixtures/dataset.ts";
import { type DevStack, startDevStack } from "../../dev/stack.ts";

const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const DAY = 86_400_000;
let stack: DevStack;

/** `visitors` visitors' visits (1–4 pageviews each, minutes apart) on the UTC day `daysAgo` back. */
function history(daysAgo: number, visitors: number, prefix: string) {
  const day = Math.floor((Date.now() - daysAgo * DAY) / DAY) * DAY;
  const rnd = prng(daysAgo);
  const lines: Record<string, unknown>[] = [];
  for (let v = 0; v < visitors; v++) {
    let t = day + 8 * 3_600_000 + Math.floor(rnd() * 10 * 3_600_000);
    for (let e = 0; e < 1 + Math.floor(rnd() * 4); e++) {
      lines.push({
        property_id: "UA-DEMO-1",
        client_id: `${prefix}-${v}`,
        event_id: `${prefix}-${v}-${e}`,
        event_type: "pageview",
        event_timestamp: t,
        page_url: `https://example.com${["/", "/pricing", "/docs"][e % 3]}`,
        user_agent: UA,
      });
      t += Math.floor(rnd() * 10 * 60_000);
    }
  }
  return { day: new Date(day).toISOString().slice(0, 10), lines };
}
const first = history(200, 30, "deep");
const later = history(150, 12, "later");

beforeAll(async () => {
  stack = await startDevStack();
});

afterAll(async () => {
  if (process.env.TALLY_E2E_LOG)
    (await import("node:fs")).writeFileSync(process.env.TALLY_E2E_LOG, stack?.output() ?? "");
  await stack?.stop();
});

/** The last 12 months' totals, as the dashboard asks them (no cache). */
async function twelveMonths() {
  const res = await fetch(`${stack.url}/api/v1/query`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${stack.demoKey}`,
      "Content-Type": "application/json",
      "Cache-Control": "no-cache",
    },
    body: JSON.stringify({
      property_id: "UA-DEMO-1",
      metrics: ["visitors", "visits", "pageviews"],
      date_range: [new Date(Date.now() - 365 * DAY).toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)],
    }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { results: { metrics: number[] }[]; meta: { source: string; plan: string } };
}

async function importLines(lines: Record<string, unknown>[]) {
  const res = await fetch(`${stack.url}/api/v1/import?property=UA-DEMO-1`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/x-ndjson" },
    body: lines.map((l) => JSON.stringify(l)).join("\n"),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Asks until the 12-month totals are `expected`; returns the answer and how long it took. */
async function answersWithinAMinute(expected: number[], started: number) {
  let answer = await twelveMonths();
  while (JSON.stringify(answer.results[0]?.metrics) !== JSON.stringify(expected) && Date.now() - started < 60_000) {
    await new Promise((r) => setTimeout(r, 1_000));
    answer = await twelveMonths();
  }
  expect(answer.results[0]?.metrics).toEqual(expected);
  expect(Date.now() - started).toBeLessThan(60_000);
  return answer;
}

async function warehouse<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.warehouseUrl });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const pageviews = (lines: unknown[]) => lines.length;

it("answers imported history older than the hot retention within a minute, before any scheduled load", async () => {
  const started = Date.now();
  await importLines(first.lines);
  const answer = await answersWithinAMinute([30, 30, pageviews(first.lines)], started);
  // No frontier yet: ClickHouse, which drops nothing before the warehouse holds it, answers.
  expect(answer.meta.source).toBe("clickhouse");
}, 90_000);

it("answers the same from the warehouse once its hourly run has set its frontier", async () => {
  const cron = await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent(WAREHOUSE_CRON)}`);
  expect(cron.status).toBe(200);
  const [schedule] = await warehouse<{ frontier: Date }>(
    "SELECT period_end AS frontier FROM job_runs WHERE job = 'warehouse_schedule'",
  );
  expect(schedule?.frontier.getTime()).toBeGreaterThan(Date.parse(`${first.day}T23:00:00Z`));
  const answer = await answersWithinAMinute([30, 30, pageviews(first.lines)], Date.now());
  expect(answer.meta.source).toBe("mixed");
  expect(answer.meta.plan).toMatch(/the warehouse up to .*ClickHouse after it, merged/);
}, 120_000);

it("keeps the day in the warehouse's tables and aggregates, for psql", async () => {
  const [events] = await warehouse<{ n: number }>(
    "SELECT count(*)::int AS n FROM events WHERE property_id = 'UA-DEMO-1' AND event_timestamp < $1",
    [`${first.day}T23:59:59`],
  );
  expect(events?.n).toBe(pageviews(first.lines));
  const daily = await warehouse(
    "SELECT visitors::int, pageviews::int FROM daily_metrics WHERE property_id = 'UA-DEMO-1' AND day = $1 AND dimension = ''",
    [first.day],
  );
  expect(daily).toEqual([{ visitors: 30, pageviews: pageviews(first.lines) }]);
});

it("answers history imported after the scheduled load within a minute too", async () => {
  const started = Date.now();
  await importLines(later.lines);
  await answersWithinAMinute([42, 42, pageviews(first.lines) + pageviews(later.lines)], started);
}, 90_000);
