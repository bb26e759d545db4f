/**
 * GDPR erasure on the dev stack, as a site owner meets it: two days ago's traffic imported for the
 * demo property reaches ClickHouse and (within seconds, as late hours) the warehouse; the visitor's
 * export lists their events; `DELETE …/visitors/{user_id}` answers 202 and its status URL reports
 * `done`; then the day's report counts as if they had never visited, the export is empty, and
 * neither ClickHouse nor the warehouse holds a row of theirs.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevStack, startDevStack } from "../../dev/stack.ts";

const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const DAY_MS = 86_400_000;
const run = crypto.randomUUID().slice(0, 8);
const DAY_START = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
const DAY = new Date(DAY_START).toISOString().slice(0, 10);
const USER = `${run}-member@example.com`;
let stack: DevStack;

/** Five visitors with two pageviews each; the member (two devices) signs in on the second. */
function lines() {
  const out: Record<string, unknown>[] = [];
  const clients = ["a", "b", "c", "laptop", "phone"];
  for (const [i, client] of clients.entries())
    for (const n of [0, 1])
      out.push({
        property_id: "UA-DEMO-1",
        client_id: `${run}-${client}`,
        ...(n === 1 && (client === "laptop" || client === "phone") ? { user_id: USER } : {}),
        event_id: `${run}-${client}-${n}`,
        event_type: "pageview",
        event_timestamp: DAY_START + (9 + i) * 3_600_000 + n * 60_000,
        page_url: `https://example.com${n === 0 ? "/" : "/pricing"}`,
        user_agent: UA,
      });
  return out;
}

beforeAll(async () => {
  stack = await startDevStack();
});

afterAll(async () => {
  if (process.env.TALLY_E2E_LOG)
    (await import("node:fs")).writeFileSync(process.env.TALLY_E2E_LOG, stack?.output() ?? "");
  await stack?.stop();
});

const auth = () => ({ Authorization: `Bearer ${stack.demoKey}` });

async function dayTotals(): Promise<number[]> {
  const res = await fetch(`${stack.url}/api/v1/query`, {
    method: "POST",
    headers: { ...auth(), "Content-Type": "application/json", "Cache-Control": "no-cache" },
    body: JSON.stringify({
      property_id: "UA-DEMO-1",
      metrics: ["visitors", "pageviews"],
      date_range: [DAY, DAY],
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { results: { metrics: number[] }[] }).results[0]?.metrics ?? [];
}

async function warehouseRows(): Promise<number> {
  const client = new pg.Client({ connectionString: stack.warehouseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM events WHERE property_id = 'UA-DEMO-1' AND client_id = ANY($1)",
      [[`${run}-laptop`, `${run}-phone`]],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function exported(): Promise<string[]> {
  const res = await fetch(`${stack.url}/api/v1/properties/UA-DEMO-1/visitors/${encodeURIComponent(USER)}/export`, {
    headers: auth(),
  });
  expect(res.status).toBe(200);
  return (await res.text()).split("\n").filter((l) => l !== "");
}

/** Polls `probe` once a second until `done` or a minute has passed; returns the last value. */
async function withinAMinute<T>(probe: () => Promise<T>, done: (t: T) => boolean): Promise<T> {
  const end = Date.now() + 60_000;
  let value = await probe();
  while (!done(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1_000));
    value = await probe();
  }
  return value;
}

it("erases a visitor from every report and store, and their export is empty afterwards", async () => {
  // Whatever else the demo property holds that day stays: the test counts by difference.
  const [visitors = 0, pageviews = 0] = await dayTotals();
  const res = await fetch(`${stack.url}/api/v1/import?property=UA-DEMO-1`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/x-ndjson" },
    body: lines()
      .map((l) => JSON.stringify(l))
      .join("\n"),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await withinAMinute(dayTotals, (t) => t[0] === visitors + 5)).toEqual([visitors + 5, pageviews + 10]);
  expect(await withinAMinute(warehouseRows, (n) => n === 4)).toBe(4);
  expect((await exported()).map((l) => JSON.parse(l).event_id)).toEqual(
    ["laptop-0", "laptop-1", "phone-0", "phone-1"].map((id) => `${run}-${id}`),
  );

  const erase = await fetch(`${stack.url}/api/v1/properties/UA-DEMO-1/visitors/${encodeURIComponent(USER)}`, {
    method: "DELETE",
    headers: auth(),
  });
  expect(erase.status).toBe(202);
  const { status_url } = (await erase.json()) as { status_url: string };
  const status = await withinAMinute(
    async () => (await (await fetch(`${stack.url}${status_url}`, { headers: auth() })).json()) as { state: string },
    (s) => s.state === "done" || s.state === "failed",
  );
  expect(status).toMatchObject({ state: "done", client_ids_found: 2 });

  expect(await dayTotals()).toEqual([visitors + 3, pageviews + 6]);
  expect(await exported()).toEqual([]);
  expect(await warehouseRows()).toBe(0);
}, 180_000);
