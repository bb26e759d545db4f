/**
 * Routing in workerd: every kind of question — the query language, reports, funnel, retention and
 * the bot audit — is planned by the same rule (core/query/plan.ts) and run by one executor
 * (workers/query/engine.ts), so a range beyond the hot retention answers the same way for all:
 * from ClickHouse, which has dropped nothing, without a warehouse and with one that has no frontier yet.
 * (test/workers/query-warehouse.test.ts: the answers once it has.)
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { withWarehouse } from "../../platform/warehouse.ts";
import worker from "../../workers/main.ts";
import { createProperty } from "./helpers.ts";

const schema = `qr_${crypto.randomUUID().slice(0, 8)}`;
let created = false;

/** A warehouse with the migrated ledger and nothing in it, in a schema of its own. */
async function emptyWarehouse(): Promise<string> {
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    for (const table of ["events", "sessions", "job_runs"])
      await sql`CREATE TABLE ${sql.id(schema, table)} (LIKE ${sql.id("public", table)} INCLUDING ALL)`.execute(db);
  });
  created = true;
  const url = new URL(env.WAREHOUSE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

afterAll(async () => {
  if (created)
    await withWarehouse(env.WAREHOUSE_URL, async (db) => {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    });
});

async function routes(warehouseUrl: string, why: RegExp) {
  const p = await createProperty({ property_id: `QR-${crypto.randomUUID().slice(0, 8)}` });
  const steps = encodeURIComponent(
    JSON.stringify([
      { kind: "page", value: "/" },
      { kind: "page", value: "/pricing" },
    ]),
  );
  const old = "start=2024-01-01&end=2024-01-31";
  const query = encodeURIComponent(
    JSON.stringify({ property_id: p.property_id, metrics: ["visitors"], date_range: ["2024-01-01", "2024-01-31"] }),
  );
  for (const path of [
    `/api/v1/query?q=${query}`,
    `/api/v1/reports?property=${p.property_id}&report=pages&${old}`,
    `/api/v1/reports?property=${p.property_id}&report=funnel&steps=${steps}&${old}`,
    `/api/v1/reports?property=${p.property_id}&report=retention&${old}`,
    `/api/v1/bots?property=${p.property_id}&from=2024-01-01&to=2024-01-31`,
  ]) {
    const ctx = createExecutionContext();
    const request = new Request(`http://tally.test${path}`, { headers: { Authorization: `Bearer ${p.api_key}` } });
    const res = await worker.fetch(request, { ...env, WAREHOUSE_URL: warehouseUrl }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status, path).toBe(200);
    const body = await res.json<{ meta?: { source?: string; plan?: string } }>();
    // Every question says where it was answered, and why there.
    expect(body.meta?.source, path).toBe("clickhouse");
    expect(body.meta?.plan, path).toMatch(/more than 90 days ago/);
    expect(body.meta?.plan, path).toMatch(why);
  }
}

describe("one query path", () => {
  // ClickHouse drops a day only once the warehouse's frontier has passed it and its hours checked
  // out (core/warehouse/retention.ts): with no warehouse, or no frontier yet, it still holds all.
  it("routes every question by the same rule: without a warehouse, ClickHouse answers beyond the hot retention", async () => {
    await routes("", /no loaded frontier yet: ClickHouse, which has dropped nothing/);
  });

  it("and so it does with a warehouse that has no frontier yet", async () => {
    await routes(await emptyWarehouse(), /no loaded frontier yet: ClickHouse, which has dropped nothing/);
  });
});
