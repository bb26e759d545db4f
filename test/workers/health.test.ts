/**
 * Liveness and readiness against the real dependencies (the test engine's ClickHouse, the embedded
 * PostgreSQL warehouse, R2 and the queues in workerd), then with one pointed at a closed port: a
 * required one down is a 503 naming it; the warehouse down only reports itself.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ReadinessSchema } from "../../core/ops/readiness.ts";
import { app } from "../../workers/app.ts";
import { ADMIN, call } from "./helpers.ts";

const CLOSED = "http://127.0.0.1:9";

async function readyWith(vars: Record<string, string>, headers: HeadersInit = {}) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request("http://tally.test/readyz", { headers }), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: ReadinessSchema.parse(await res.json()) };
}

describe("liveness", () => {
  it("/healthz and /health answer without touching a dependency, with a request id", async () => {
    for (const path of ["/healthz", "/health"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("takes Cloudflare's ray id as the request id", async () => {
    const res = await call("/healthz", { headers: { "cf-ray": "8f1c2d3e4a5b6c7d-AMS" } });
    expect(res.headers.get("x-request-id")).toBe("8f1c2d3e4a5b6c7d-AMS");
  });
});

describe("readiness", () => {
  it("is 200 with every dependency ok, each with its latency", async () => {
    const res = await call("/readyz");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = ReadinessSchema.parse(await res.json());
    expect(body.status).toBe("ready");
    for (const name of ["clickhouse", "warehouse", "archive", "queues", "cache"] as const) {
      expect(body.checks[name].status, name).toBe("ok");
      expect(body.checks[name].latency_ms, name).toBeGreaterThanOrEqual(0);
    }
    expect(body.checks.clickhouse.required).toBe(true);
    expect(body.checks.warehouse.required).toBe(false);
    expect(body.checks.queues.detail).toMatchObject({ shards: 1 });
    expect(typeof body.checks.queues.detail?.backlog).toBe("number");
    expect(body.checks.cache.detail).toEqual({ kind: "cache-api" });
  });

  it("is 503 naming ClickHouse when it does not answer; only the admin sees the error", async () => {
    const open = await readyWith({ CLICKHOUSE_URL: CLOSED });
    expect(open.status).toBe(503);
    expect(open.body.status).toBe("not_ready");
    expect(open.body.checks.clickhouse.status).toBe("down");
    expect(open.body.checks.clickhouse.error).toBeUndefined();
    expect(open.body.checks.archive.status).toBe("ok");

    const admin = await readyWith({ CLICKHOUSE_URL: CLOSED }, ADMIN);
    expect(admin.status).toBe(503);
    expect(admin.body.checks.clickhouse.error).toBeTruthy();
  });

  it("stays ready with the warehouse down (only deep ranges need it), and reports it", async () => {
    const { status, body } = await readyWith({ WAREHOUSE_URL: "postgres://tally:tally@127.0.0.1:9/tally" }, ADMIN);
    expect(status).toBe(200);
    expect(body.checks.warehouse).toMatchObject({ status: "down", required: false });
    expect(body.checks.warehouse.error).not.toContain("tally:tally");
  });

  it("says not_configured for a warehouse that is not set up", async () => {
    const { status, body } = await readyWith({ WAREHOUSE_URL: "" });
    expect(status).toBe(200);
    expect(body.checks.warehouse).toMatchObject({ status: "not_configured", latency_ms: null });
  });

  it("stays ready with an Upstash cache down (queries go on uncached), and reports it", async () => {
    const { status, body } = await readyWith({
      UPSTASH_REDIS_REST_URL: CLOSED,
      UPSTASH_REDIS_REST_TOKEN: "token",
    });
    expect(status).toBe(200);
    expect(body.checks.cache).toMatchObject({ status: "down", required: false });
  });
});
