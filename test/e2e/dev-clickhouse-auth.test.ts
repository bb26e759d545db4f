/**
 * `npm run dev` as a person starts it, with the embedded ClickHouse locked down: the engine refuses
 * requests without its generated password, the Worker still writes (as `default`) and answers
 * queries (as the read-only `tally_query`), the passwords reaching it as secrets; `npm run migrate`
 * finds the writer's password in the data folder by itself.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DevStack, startDevStack } from "../../dev/stack.ts";

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** `npm run migrate` as a person runs it beside the stack: no CLICKHOUSE_PASSWORD in the environment. */
async function migrate(dataDir: string): Promise<{ code: number | null; out: string }> {
  const { CLICKHOUSE_PASSWORD: _, CLICKHOUSE_USER: __, ...env } = process.env;
  const child = spawn(process.execPath, ["scripts/migrate.ts"], {
    env: { ...env, TALLY_DATA_DIR: dataDir, CLICKHOUSE_URL: stack.clickhouseUrl, WAREHOUSE_URL: stack.warehouseUrl },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, out };
}

describe("npm run dev with ClickHouse passwords", () => {
  it("says where the passwords are, and hands the Worker the query user", () => {
    expect(stack.output()).toMatch(
      /users default and tally_query \(read-only\); passwords in \S+tally-credentials\.json/,
    );
    // Secrets, so wrangler lists them hidden: a wrong password would fail every query below.
    expect(stack.output()).toContain('env.CLICKHOUSE_QUERY_USER ("(hidden)")');
    expect(stack.output()).toContain('env.CLICKHOUSE_QUERY_PASSWORD ("(hidden)")');
  });

  it("refuses ClickHouse requests without the password, and from web pages; the stack's Basic header gets in", async () => {
    const open = await fetch(`${stack.clickhouseUrl}/?query=${encodeURIComponent("SELECT 1")}`);
    expect(open.status).toBe(401);
    const page = await fetch(`${stack.clickhouseUrl}/?query=${encodeURIComponent("SELECT 1")}`, {
      headers: { Origin: "https://evil.example" },
    });
    expect(page.status).toBe(403);
    const writer = await fetch(`${stack.clickhouseUrl}/?query=${encodeURIComponent("SELECT 1")}`, {
      headers: stack.clickhouseHeaders,
    });
    expect(writer.status).toBe(200);
  });

  it("still stores collected events and answers queries over them", async () => {
    const eventId = `e2e-auth-${crypto.randomUUID()}`;
    const res = await fetch(`${stack.url}/collect`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0" },
      body: JSON.stringify({
        property_id: "UA-DEMO-1",
        client_id: "auth-c1",
        event_id: eventId,
        event_type: "pageview",
        page_url: "https://example.com/locked",
      }),
    });
    expect(res.status).toBe(202);
    const clickhouse = createClient({ url: stack.clickhouseUrl, ...stack.clickhouseAuth });
    await vi.waitFor(
      async () => {
        const result = await clickhouse.query({
          query: "SELECT count() AS n FROM events WHERE event_id = {id:String}",
          query_params: { id: eventId },
          format: "JSONEachRow",
        });
        expect(await result.json()).toEqual([{ n: "1" }]);
      },
      { timeout: 10_000, interval: 200 },
    );
    // Yesterday is ClickHouse's (not the live actor's): the query runs as tally_query.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const query = await fetch(`${stack.url}/api/v1/query`, {
      method: "POST",
      headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ property_id: "UA-DEMO-1", metrics: ["visitors"], date_range: [yesterday, yesterday] }),
    });
    expect(query.status).toBe(200);
    expect(((await query.json()) as { meta: { source: string } }).meta.source).toBe("clickhouse");
  });

  it("lets npm run migrate in with the data folder's password, and names the fix without it", async () => {
    const found = await migrate(stack.dataDir);
    expect(found.code, found.out).toBe(0);
    expect(found.out).toContain(`password from ${join(stack.dataDir, "clickhouse", "tally-credentials.json")}`);
    expect(found.out).toMatch(/ClickHouse\s+0 applied, [1-9]\d* already in place/);
    const elsewhere = mkdtempSync(join(tmpdir(), "tally-no-credentials-"));
    try {
      const refused = await migrate(elsewhere);
      expect(refused.code, refused.out).toBe(1);
      expect(refused.out).toContain("Authentication failed");
      expect(refused.out).toContain("set CLICKHOUSE_PASSWORD, or TALLY_DATA_DIR");
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
