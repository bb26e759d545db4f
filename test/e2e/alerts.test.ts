/**
 * A traffic alert end to end on the dev stack (issue #18): a site owner points the alert webhook at
 * a receiver on their machine; the last hour's steady traffic is imported (the detector learns its
 * baseline from the live windows the PropertyDO holds), steady visits keep coming through /collect,
 * then a burst of visits through /collect; the receiver gets an `alert.opened` notice for the spike,
 * signed with the secret the rules API answered once, and the API lists the alert.
 *
 * The detector opens nothing in its first WARMUP_MINUTES observed minutes and observes a minute
 * LATE_MS after it ends, so the spike's minute is the first one past the warm-up: about five
 * minutes of wall clock.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WARMUP_MINUTES } from "../../core/ops/anomaly.ts";
import { freePort } from "../../dev/free-port.ts";
import { type DevStack, startDevStack } from "../../dev/stack.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const MINUTE = 60_000;
const PROPERTY = "UA-ALERTS-E2E";
const PER_MINUTE = 6;
/** How long after its end the PropertyDO observes a minute (durable-objects/alert-detection.ts LATE_MS). */
const LATE_MS = 120_000;
const minuteOf = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Notice {
  signature: string;
  userAgent: string;
  body: string;
}

let stack: DevStack;
let receiver: Server;
let receiverPort: number;
const notices: Notice[] = [];

beforeAll(async () => {
  receiverPort = await freePort();
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      notices.push({
        signature: String(req.headers["tally-signature"] ?? ""),
        userAgent: String(req.headers["user-agent"] ?? ""),
        body,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(receiverPort, "127.0.0.1", resolve));
  stack = await startDevStack();
});

afterAll(async () => {
  if (process.env.TALLY_E2E_LOG)
    (await import("node:fs")).writeFileSync(process.env.TALLY_E2E_LOG, stack?.output() ?? "");
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const admin = () => ({ Authorization: `Bearer ${stack.adminToken}` });

async function api(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.url}${path}`, {
    ...init,
    headers: { ...admin(), "Content-Type": "application/json", ...init.headers },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Pageviews through /collect as a browser sends them (at most 20 a request); `at` places them in time. */
async function visits(tag: string, n: number, at?: (i: number) => number): Promise<void> {
  for (let from = 0; from < n; from += 20) {
    const events = Array.from({ length: Math.min(20, n - from) }, (_, j) => ({
      property_id: PROPERTY,
      client_id: `${tag}-${from + j}`,
      event_type: "pageview",
      page_url: "https://example.com/",
      ...(at ? { event_timestamp: at(from + j) } : {}),
    }));
    const res = await fetch(`${stack.url}/collect`, {
      method: "POST",
      headers: { "User-Agent": UA, "Content-Type": "application/json" },
      body: JSON.stringify(events),
    });
    expect(res.status, await res.clone().text()).toBe(202);
  }
}

/** What a receiver does with `t=…,v1=…`: HMAC-SHA256 of "<t>.<body>" under the secret, compared in constant time. */
function signedBy(secret: string, notice: Notice): boolean {
  const t = /(?:^|,)t=(\d+)/.exec(notice.signature)?.[1];
  const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(notice.signature)?.[1];
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${notice.body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

async function clickhouseCount(): Promise<number> {
  const text = await stack.clickhouseText(`SELECT count() FROM events WHERE property_id = '${PROPERTY}'`);
  return Number(text.trim());
}

it("sends a signed alert to a local webhook when a spike comes through /collect", async () => {
  await api("/api/v1/properties", {
    method: "POST",
    body: JSON.stringify({ property_id: PROPERTY, name: "Alerts e2e", domains: ["example.com"] }),
  });
  // Off while the past hour goes in: the detector then starts from the whole hour at once.
  const put = await api(`/api/v1/properties/${PROPERTY}/alert-rules`, {
    method: "PUT",
    body: JSON.stringify({
      enabled: false,
      threshold: 5,
      consecutive_minutes: 1,
      min_pageviews_per_minute: 2,
      webhook: { url: `http://127.0.0.1:${receiverPort}/tally-hook`, format: "json" },
    }),
  });
  const secret = String(put.webhook_secret);
  expect(secret).toMatch(/^whsec_/);

  // The last hour inside the live horizon, a steady PER_MINUTE a minute (the oldest minute may be
  // pruned by the time it is read; the detector starts from whatever the actor still holds).
  const now = Date.now();
  const first = minuteOf(now) - 58 * MINUTE;
  const past = (minuteOf(now) - first) / MINUTE;
  await visits(
    "past",
    past * PER_MINUTE,
    (i) => first + Math.floor(i / PER_MINUTE) * MINUTE + (i % PER_MINUTE) * 5_000,
  );
  for (let tries = 0; (await clickhouseCount()) < past * PER_MINUTE && tries < 60; tries++) await sleep(1_000);
  expect(await clickhouseCount()).toBe(past * PER_MINUTE);
  await api(`/api/v1/properties/${PROPERTY}/alert-rules`, { method: "PUT", body: JSON.stringify({ enabled: true }) });

  // Steady visits until the spike's minute: the first one the detector may alert on.
  const spikeMinute = first + (WARMUP_MINUTES + 1) * MINUTE;
  for (let n = 0; Date.now() < spikeMinute + 5_000; n++) {
    await visits(`steady-${n}`, 1);
    await sleep(MINUTE / PER_MINUTE);
  }
  await visits("spike", 60);

  // Observed once its minute has closed and LATE_MS passed; steady visits and the alarm carry on.
  const deadline = spikeMinute + MINUTE + LATE_MS + 90_000;
  const opened = () => notices.find((n) => n.body.includes('"alert.opened"') && n.body.includes('"spike"'));
  for (let n = 0; !opened() && Date.now() < deadline; n++) {
    await visits(`after-${n}`, 1);
    await sleep(MINUTE / PER_MINUTE);
  }
  const notice = opened();
  if (!notice) throw new Error(`no spike notice by the deadline; received: ${JSON.stringify(notices)}`);
  expect(notice.userAgent).toBe("Tally-Alerts/1");
  expect(signedBy(secret, notice)).toBe(true);
  expect(signedBy(secret, { ...notice, body: notice.body.replace("spike", "spikes") })).toBe(false);
  const body = JSON.parse(notice.body);
  expect(body).toMatchObject({ type: "alert.opened", property_id: PROPERTY, alert: { kind: "spike", status: "open" } });
  expect(body.alert.observed).toBeGreaterThanOrEqual(50);

  const listed = await api(`/api/v1/properties/${PROPERTY}/alerts?status=open`);
  expect(listed.alerts).toContainEqual(expect.objectContaining({ alert_id: body.alert.alert_id, kind: "spike" }));
}, 600_000);
