/**
 * `npm run bench` (realtime): event → WebSocket push and event → ClickHouse row latency on the
 * local dev stack (`scripts/dev.ts`: wrangler dev, the ingest stage, the embedded ClickHouse). Each
 * sample POSTs one event to /collect and waits for the push that counts it and for its row;
 * samples are spaced past the one-push-per-second throttle.
 */
import { startDevStack } from "../dev/stack.ts";

const SAMPLES = Number(process.env.BENCH_REALTIME_SAMPLES ?? 40);
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

const stack = await startDevStack();
const { port, demoKey: key } = stack;
try {
  const base = `http://127.0.0.1:${port}`;
  const { token } = (await (
    await fetch(`${base}/api/v1/realtime/token?property=UA-DEMO-1`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}` },
    })
  ).json()) as { token: string };
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/realtime?property=UA-DEMO-1&token=${encodeURIComponent(token)}`);
  let latest = -1;
  let waiter: ((n: number) => void) | undefined;
  ws.addEventListener("message", (m) => {
    latest = (JSON.parse(String(m.data)) as { data: { pageviews_last_30m: number } }).data.pageviews_last_30m;
    waiter?.(latest);
  });
  while (latest < 0) await new Promise((r) => setTimeout(r, 20));
  const latencies: number[] = [];
  const rowLatencies: number[] = [];
  const rowCount = async (clientId: string) => {
    const sql = `SELECT count() FROM events WHERE property_id = 'UA-DEMO-1' AND client_id = '${clientId}'`;
    return Number((await stack.clickhouseText(sql)).trim());
  };
  const run = Date.now().toString(36);
  for (let i = 0; i < SAMPLES; i++) {
    const target = latest + 1;
    const sent = performance.now();
    const seen = new Promise<void>((resolve) => {
      waiter = (n) => n >= target && resolve();
    });
    await fetch(`${base}/collect`, {
      method: "POST",
      headers: { "User-Agent": UA },
      body: JSON.stringify({
        property_id: "UA-DEMO-1",
        client_id: `rt-${run}-${i}`,
        event_type: "pageview",
        page_url: "https://example.com/rt",
      }),
    });
    await seen;
    latencies.push(performance.now() - sent);
    // The client id is the bench's own, so one row means this event's row has landed.
    while ((await rowCount(`rt-${run}-${i}`)) < 1) await new Promise((r) => setTimeout(r, 25));
    rowLatencies.push(performance.now() - sent);
    await new Promise((r) => setTimeout(r, 1_100));
  }
  ws.close();
  const at = (values: number[], q: number) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]?.toFixed(0);
  console.log(
    `\nEvent → WebSocket push on the dev stack (${SAMPLES} samples): p50 ${at(latencies, 0.5)} ms, p95 ${at(latencies, 0.95)} ms, max ${at(latencies, 1)} ms (target p95 ≤ 1,500)`,
  );
  console.log(
    `Event → ClickHouse row: p50 ${at(rowLatencies, 0.5)} ms, p95 ${at(rowLatencies, 0.95)} ms, max ${at(rowLatencies, 1)} ms (target p95 ≤ 5,000)`,
  );
  console.log(
    "  (the queue's max_batch_timeout of 1 s dominates; then the staging write, the actors' group commit (ACTOR_COMMIT_MS, twice) and the push throttle)",
  );
} finally {
  await stack.stop();
}
