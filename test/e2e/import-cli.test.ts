/**
 * `node scripts/import.ts` end to end: the dev stack (scripts/dev.ts on free ports), the CLI as a
 * child process on a generated NDJSON file with bad lines, a CSV file and a GA4 BigQuery export
 * sample; rows asserted in ClickHouse; then every import run again, and nothing doubles.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DevStack, startDevStack } from "../../dev/stack.ts";
import type { ImportSummary } from "../../scripts/import/progress.ts";

import {
  BAD,
  clickHouseTime,
  GA4_ROWS,
  HISTORY_START,
  NDJSON_ACCEPTED,
  NDJSON_LINES,
  ndjson,
} from "./import-cli-support.ts";

let stack: DevStack;
let clickhouse: ClickHouseClient;
const dir = mkdtempSync(join(tmpdir(), "tally-import-e2e-"));

beforeAll(async () => {
  stack = await startDevStack();
  clickhouse = createClient({ url: stack.clickhouseUrl, ...stack.clickhouseAuth });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  summary: ImportSummary;
  stderr: string;
}

function importFile(file: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["scripts/import.ts", "--file", file, "--property", "UA-DEMO-1", "--url", stack.url, "--json", ...args],
      { env: { ...process.env, TALLY_API_KEY: stack.demoKey }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      try {
        resolve({ code, summary: JSON.parse(stdout) as ImportSummary, stderr });
      } catch {
        reject(new Error(`no JSON summary (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

async function query<T>(sql: string): Promise<T[]> {
  const result = await clickhouse.query({ query: sql, format: "JSONEachRow" });
  return result.json<T>();
}

async function count(where: string): Promise<{ rows: number; ids: number }> {
  const [row] = await query<{ rows: string; ids: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids FROM events WHERE property_id = 'UA-DEMO-1' AND ${where}`,
  );
  return { rows: Number(row?.rows), ids: Number(row?.ids) };
}

/**
 * The queue consumer's progress, from what the stack prints: each batch logs one metric line with
 * its event count when it starts, and wrangler one "QUEUE events acked/total" line when it is done.
 */
function consumer(): { events: number; started: number; finished: number } {
  const output = stack.output();
  let events = 0;
  let started = 0;
  for (const match of output.matchAll(/\{"tally_metric":"consumer_batch".*?"events":(\d+)/g)) {
    events += Number(match[1]);
    started++;
  }
  const finished = [...output.matchAll(/QUEUE events \d+\/([1-9]\d*)/g)].length;
  return { events, started, finished };
}

describe("npm run import against the dev stack", () => {
  const files = {
    ndjson: join(dir, "events.ndjson"),
    csv: join(dir, "events.csv"),
    ga4: join(dir, "ga4-export.ndjson"),
  };

  it("imports a generated NDJSON file in chunks: every valid line is a row, each bad line named by its file line", async () => {
    writeFileSync(files.ndjson, ndjson());
    const started = Date.now();
    const { code, summary } = await importFile(files.ndjson, "--batch-lines", "500");
    const seconds = (Date.now() - started) / 1000;
    expect(code).toBe(0);
    expect(summary).toMatchObject({ accepted: NDJSON_ACCEPTED, rejected: BAD.size, rejected_locally: 0, chunks: 6 });
    expect(summary.errors.map((e) => [e.line, e.code])).toEqual([...BAD].map(([line, [, c]]) => [line, c]));
    expect(summary.errors[3]?.message).toBe("line 2999.pagetitle: is not a known field");
    console.log(
      `import CLI → dev stack: ${summary.accepted} events in ${seconds.toFixed(1)} s (${summary.events_per_second} events/s as the CLI measured)`,
    );
    await vi.waitFor(
      async () => expect(await count("event_id LIKE 'imp-%'")).toEqual({ rows: NDJSON_ACCEPTED, ids: NDJSON_ACCEPTED }),
      {
        timeout: 60_000,
        interval: 500,
      },
    );
    console.log(`  … and every row in ClickHouse ${((Date.now() - started) / 1000).toFixed(1)} s after the start`);
    const [shape] = await query<Record<string, string>>(
      `SELECT min(event_timestamp) AS first, max(event_timestamp) AS last, uniqExact(client_id) AS visitors,
              countIf(country = 'DE' AND city = 'Berlin' AND utm_source = 'newsletter' AND browser = 'Firefox'
                      AND source_protocol = 'import' AND NOT is_bot) AS enriched
       FROM events WHERE property_id = 'UA-DEMO-1' AND event_id LIKE 'imp-%'`,
    );
    expect(shape).toEqual({
      first: clickHouseTime(HISTORY_START + 600_000),
      last: clickHouseTime(HISTORY_START + NDJSON_LINES * 600_000),
      visitors: "300",
      enriched: String(NDJSON_ACCEPTED),
    });
  }, 120_000);

  it("imports a CSV file: quoted commas, typed metrics, a short row refused by line", async () => {
    const csvTime = HISTORY_START + 31 * 86_400_000 + 10 * 3_600_000;
    writeFileSync(
      files.csv,
      [
        "client_id,event_type,page_url,event_timestamp,page_title,country,custom_dimensions.plan,custom_metrics.revenue",
        `csv-1,pageview,https://example.com/a,${new Date(csvTime).toISOString()},"Pricing, plans and ""offers""",FR,pro,`,
        `csv-1,purchase,https://example.com/b,${csvTime / 1000 + 100},Thanks,FR,pro,12.5`,
        "csv-2,pageview",
      ].join("\r\n"),
    );
    const { code, summary } = await importFile(files.csv);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ format: "csv", accepted: 2, rejected: 0, rejected_locally: 1 });
    expect(summary.errors).toEqual([
      { line: 4, code: "invalid_csv", message: "line 4: has 2 fields; the header has 8" },
    ]);
    const sql = `SELECT page_title, custom_dimensions['plan'] AS plan, custom_metrics['revenue'] AS revenue
                 FROM events WHERE client_id = 'csv-1' ORDER BY event_timestamp`;
    await vi.waitFor(async () => expect(await query(sql)).toHaveLength(2), { timeout: 30_000, interval: 250 });
    expect(await query(sql)).toEqual([
      { page_title: 'Pricing, plans and "offers"', plan: "pro", revenue: 0 },
      { page_title: "Thanks", plan: "pro", revenue: 12.5 },
    ]);
  }, 60_000);

  it("imports a GA4 BigQuery export sample: bookkeeping skipped, a page_view without a URL refused, the rest mapped", async () => {
    writeFileSync(files.ga4, `${GA4_ROWS.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const { code, summary } = await importFile(files.ga4, "--format", "ga4-bigquery");
    expect(code).toBe(0);
    expect(summary).toMatchObject({
      accepted: 4,
      rejected: 0,
      rejected_locally: 1,
      skipped: { session_start: 1 },
      dropped: { items: 1 },
      errors: [{ line: 5, code: "ga4_unmappable", message: "line 5: page_view: no page_location param" }],
    });
    const sql = `SELECT event_type, page_path, utm_source, utm_campaign, country, language, custom_dimensions['ga_session_id'] AS session,
                        custom_dimensions['device.category'] AS device, custom_metrics['revenue'] AS revenue
                 FROM events WHERE event_id LIKE 'ga4-%' ORDER BY event_timestamp`;
    await vi.waitFor(async () => expect(await query(sql)).toHaveLength(4), { timeout: 30_000, interval: 250 });
    const common = { country: "DE", language: "de-de", session: "1710241200", device: "desktop" };
    expect(await query(sql)).toEqual([
      {
        event_type: "pageview",
        page_path: "/",
        utm_source: "newsletter",
        utm_campaign: "spring",
        revenue: 0,
        ...common,
      },
      { event_type: "scroll", page_path: "/", utm_source: "", utm_campaign: "", revenue: 0, ...common },
      { event_type: "pageview", page_path: "/pricing", utm_source: "", utm_campaign: "", revenue: 0, ...common },
      { event_type: "purchase", page_path: "/thanks", utm_source: "", utm_campaign: "", revenue: 49.5, ...common },
    ]);
    // One visit, as GA4 counted it: its session rows land just after the events.
    const visit =
      "SELECT count() AS sessions, sum(pageviews) AS pageviews FROM sessions FINAL WHERE client_id = '555.1710000000'";
    await vi.waitFor(async () => expect(await query(visit)).toEqual([{ sessions: "1", pageviews: "2" }]), {
      timeout: 30_000,
      interval: 250,
    });
  }, 60_000);

  it("runs every import again without doubling a row", async () => {
    const before = {
      ndjson: await count("event_id LIKE 'imp-%'"),
      ga4: await count("event_id LIKE 'ga4-%'"),
      consumed: consumer().events,
    };
    const runs = await Promise.all([
      importFile(files.ndjson, "--batch-lines", "500"),
      importFile(files.csv),
      importFile(files.ga4, "--format", "ga4-bigquery"),
    ]);
    expect(runs.map((r) => [r.code, r.summary.accepted])).toEqual([
      [0, NDJSON_ACCEPTED],
      [0, 2],
      [0, 4],
    ]);
    // The consumer has taken every re-sent event and finished every batch it started (the repeats
    // write nothing, so the rows themselves cannot say when it is done).
    const resent = NDJSON_ACCEPTED + 2 + 4;
    await vi.waitFor(
      () => {
        const now = consumer();
        expect(now.events).toBeGreaterThanOrEqual(before.consumed + resent);
        expect(now.finished).toBeGreaterThanOrEqual(now.started);
      },
      { timeout: 60_000, interval: 250 },
    );
    expect(await count("event_id LIKE 'imp-%'")).toEqual(before.ndjson);
    expect(await count("event_id LIKE 'ga4-%'")).toEqual(before.ga4);
    expect(before.ndjson).toEqual({ rows: NDJSON_ACCEPTED + 2, ids: NDJSON_ACCEPTED + 2 });
    const [sessions] = await query<{ n: string }>(
      "SELECT count() AS n FROM sessions FINAL WHERE client_id = '555.1710000000'",
    );
    expect(sessions?.n).toBe("1");
  }, 120_000);
});
