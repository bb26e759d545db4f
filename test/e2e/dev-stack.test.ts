/**
 * The README's promise, end to end: `npm run dev` brings up the embedded stack, and an event POSTed
 * to /collect is a ClickHouse row within 5 seconds. Runs scripts/dev.ts as a person would.
 */
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DevStack, startDevStack } from "../../dev/stack.ts";

let stack: DevStack;
let output = "";
let port: number;
let clickhousePort: number;

beforeAll(async () => {
  stack = await startDevStack();
  ({ port, clickhousePort } = stack);
  output = stack.output();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("npm run dev", () => {
  it("prints what runs where", () => {
    expect(output).toContain(`http://localhost:${port}`);
    expect(output).toContain(`http://127.0.0.1:${clickhousePort}`);
    expect(output).toMatch(/Migrations\s+\d+ applied/);
    expect(output).toMatch(/Demo property\s+UA-DEMO-1 created — API key tk_/);
  });

  it("turns a POST to /collect into a ClickHouse row within 5 seconds", async () => {
    const eventId = `e2e-${crypto.randomUUID()}`;
    // Exactly what the README's `curl -d '…'` sends: no Content-Type of its own, so curl's form type.
    const res = await fetch(`http://127.0.0.1:${port}/collect`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({
        property_id: "UA-DEMO-1",
        client_id: "c1",
        event_id: eventId,
        event_type: "pageview",
        page_url: "https://example.com/",
      }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "accepted", event_id: eventId });
    const accepted = Date.now();
    const clickhouse = createClient({ url: stack.clickhouseUrl, ...stack.clickhouseAuth });
    await vi.waitFor(
      async () => {
        const result = await clickhouse.query({
          query: "SELECT property_id, event_type FROM events WHERE event_id = {id:String}",
          query_params: { id: eventId },
          format: "JSONEachRow",
        });
        expect(await result.json()).toEqual([{ property_id: "UA-DEMO-1", event_type: "pageview" }]);
      },
      { timeout: 5_000, interval: 100 },
    );
    console.log(`collect → ClickHouse row in ${Date.now() - accepted} ms`);
  });

  it("shows an event in /api/v1/realtime and on an open WebSocket", async () => {
    const key = /API key (tk_\S+)/.exec(output)?.[1];
    if (!key) throw new Error(`no API key in the dev output:\n${output}`);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/realtime?property=UA-DEMO-1&token=${await wsToken(key)}`);
    const pushes: { pageviews_last_30m: number }[] = [];
    ws.addEventListener("message", (m) => {
      pushes.push((JSON.parse(String(m.data)) as { data: { pageviews_last_30m: number } }).data);
    });
    await vi.waitFor(() => expect(pushes.length).toBeGreaterThan(0), { timeout: 5_000 });
    const before = pushes.at(-1)?.pageviews_last_30m ?? 0;
    // A browser's user agent: Node's own is flagged as a bot and, rightly, not counted live.
    const accepted = Date.now();
    await fetch(`http://127.0.0.1:${port}/collect`, {
      method: "POST",
      headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" },
      body: JSON.stringify({
        property_id: "UA-DEMO-1",
        client_id: "live-1",
        event_type: "pageview",
        page_url: "https://example.com/live",
      }),
    });
    await vi.waitFor(() => expect(pushes.at(-1)?.pageviews_last_30m).toBe(before + 1), {
      timeout: 5_000,
      interval: 20,
    });
    console.log(`collect → WebSocket push in ${Date.now() - accepted} ms`);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/realtime?property=UA-DEMO-1`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(await res.json()).toMatchObject({ property_id: "UA-DEMO-1", pageviews_last_30m: before + 1 });
    ws.close();

    async function wsToken(apiKey: string): Promise<string> {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/realtime/token?property=UA-DEMO-1`, {
        method: "POST",
        headers: { Authorization: `Bearer ${apiKey}` },
      });
      return encodeURIComponent(((await r.json()) as { token: string }).token);
    }
  });

  it("stops everything on Ctrl-C", async () => {
    expect(await stack.stop(), stack.output().slice(-1500)).toBe("0/null");
    await expect(fetch(`http://127.0.0.1:${clickhousePort}/ping`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
