/**
 * The README's promise, end to end: `npm run dev` brings up the embedded stack, and an event POSTed
 * to /collect is a ClickHouse row within 5 seconds. Runs scripts/dev.ts as a person would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../support/free-port.ts";

let dev: ChildProcess;
let output = "";
let port: number;
let clickhousePort: number;
const dataDir = mkdtempSync(join(tmpdir(), "tally-e2e-"));

beforeAll(async () => {
  port = await freePort();
  clickhousePort = await freePort();
  dev = spawn(process.execPath, ["scripts/dev.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      CLICKHOUSE_PORT: String(clickhousePort),
      TALLY_DATA_DIR: dataDir,
      ADMIN_TOKEN: "e2e-admin",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  dev.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  dev.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run dev was not ready in 90 s:\n${output}`)), 90_000);
    const check = () => {
      if (!output.includes("Ctrl-C stops everything")) return;
      clearTimeout(timer);
      resolve();
    };
    dev.stdout?.on("data", check);
    dev.stderr?.on("data", check);
    dev.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run dev exited early with ${code}:\n${output}`));
    });
  });
}, 120_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once("exit", resolve));
    dev.kill("SIGINT");
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
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
    const clickhouse = createClient({ url: `http://127.0.0.1:${clickhousePort}` });
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
    const exited = new Promise<string>((resolve) => dev.once("exit", (code, signal) => resolve(`${code}/${signal}`)));
    dev.kill("SIGINT");
    expect(await exited, output.slice(-1500)).toBe("0/null");
    await expect(fetch(`http://127.0.0.1:${clickhousePort}/ping`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
