/**
 * Structured logs (issue #18): every line the Worker, its consumer and its actors print is one JSON
 * object carrying the request id of what it belongs to (the answer's X-Request-Id for a request), and
 * no line holds personal data — not on the happy path, nor on the error paths that log the most: a
 * query with ClickHouse down (a 503 logged with its cause) and a consumer batch whose inserts fail.
 * (test/workers/privacy-scan.test.ts reads the logs of every ingestion route for addresses too.)
 */
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { app } from "../../workers/app.ts";
import worker from "../../workers/main.ts";
import { type CreatedProperty, call, createProperty } from "./helpers.ts";

const IP = "192.0.2.201";
const UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) LogsTestBrowser/131.0.0.0 Safari/537.36";
const CLIENT = "visitor-c1d2e3f4-logs";
const SECRET = "jane.roe@example.com";
const NEEDLES = [IP, "LogsTestBrowser", CLIENT, SECRET, "jane.roe%40example.com"];
const CLOSED = "http://127.0.0.1:9";

const lines: string[] = [];
let site: CreatedProperty;

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : String(a))).join(" "));
    });
  site = await createProperty({ property_id: "LOGS-1", domains: ["logs.example"] });
});

function parsed(from: number): Record<string, unknown>[] {
  return lines.slice(from).map((line) => {
    expect(() => JSON.parse(line), line).not.toThrow();
    return JSON.parse(line) as Record<string, unknown>;
  });
}

function leaks(from: number): string[] {
  return lines.slice(from).flatMap((line) => NEEDLES.filter((n) => line.includes(n)).map((n) => `${n}: ${line}`));
}

async function withEnv(vars: Record<string, string>, path: string, init: RequestInit) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://tally.test${path}`, init), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("structured logs", () => {
  it("a failing query's lines are JSON with the answer's request id, and name no visitor", async () => {
    const from = lines.length;
    const res = await withEnv({ CLICKHOUSE_URL: CLOSED }, "/api/v1/query", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${site.api_key}`,
        "Content-Type": "application/json",
        "User-Agent": UA,
        "CF-Connecting-IP": IP,
      },
      body: JSON.stringify({
        property_id: site.property_id,
        metrics: ["visitors"],
        date_range: "7d",
        filters: [["is", "event:page", [`/reset?email=${SECRET}`]]],
      }),
    });
    expect(res.status).toBeGreaterThanOrEqual(500);
    const id = res.headers.get("x-request-id");
    const logged = parsed(from);
    const errors = logged.filter((l) => l.level === "error");
    expect(errors.length).toBeGreaterThan(0);
    for (const line of logged) expect(line.request_id).toBe(id);
    expect(leaks(from)).toEqual([]);
  });

  it("ingestion and a consumer batch that fails to insert log JSON lines with an id, and no visitor", async () => {
    const from = lines.length;
    const res = await call("/collect", {
      method: "POST",
      headers: {
        "User-Agent": UA,
        "CF-Connecting-IP": IP,
        "Content-Type": "application/json",
        Origin: "https://logs.example",
      },
      body: JSON.stringify({
        events: [
          {
            property_id: site.property_id,
            client_id: CLIENT,
            event_type: "pageview",
            page_url: `https://logs.example/reset?email=${SECRET}`,
          },
        ],
      }),
    });
    expect(res.status).toBe(202);
    const body: EventsMessage = {
      v: 1,
      received_at: Date.now(),
      events: [makeEvent({ property_id: site.property_id, client_id: CLIENT, user_agent: UA })],
    };
    const batch = createMessageBatch("events", [{ id: "logs-m1", timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, CLICKHOUSE_URL: CLOSED }, ctx);
    await waitOnExecutionContext(ctx);
    const logged = parsed(from);
    const consumer = logged.filter((l) => l.level === "error" && String(l.msg).includes("retrying"));
    expect(consumer.length).toBeGreaterThan(0);
    for (const line of logged) expect(typeof line.request_id, JSON.stringify(line)).toBe("string");
    expect(leaks(from)).toEqual([]);
  });
});
