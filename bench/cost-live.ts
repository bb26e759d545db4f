/**
 * `npm run bench` (cost, measured): sends a realistic stream through the dev stack — each request
 * one visitor's 5 events, 20 properties — and sums what the consumer reports per batch (session
 * and property actor RPCs, SQLite rows written). Worker requests and queue operations are counted
 * at the edge. Scaled to 1M events; bench/actors.ts models the same at our spec's scale.
 */
import { startDevStack } from "../dev/stack.ts";

const EVENTS = Number(process.env.BENCH_COST_LIVE_EVENTS ?? 10_000);
const PER_REQUEST = 5;
const PROPERTIES = 20;
const CONCURRENCY = 16;
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const stack = await startDevStack();
try {
  const admin = { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" };
  for (let p = 1; p <= PROPERTIES; p++) {
    await fetch(`${stack.url}/api/v1/properties`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ property_id: `UA-COST-${p}`, name: `Cost ${p}`, domains: ["cost.example"] }),
    });
  }
  const requests = EVENTS / PER_REQUEST;
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        const r = next++;
        const property = `UA-COST-${(r % PROPERTIES) + 1}`;
        const events = Array.from({ length: PER_REQUEST }, (_, i) => ({
          property_id: property,
          client_id: `visitor-${r}`,
          event_type: "pageview",
          page_url: `https://cost.example/page/${i}`,
          event_timestamp: Date.now() - (PER_REQUEST - i) * 1000,
        }));
        const res = await fetch(`${stack.url}/collect`, {
          method: "POST",
          headers: { "User-Agent": UA, "CF-Connecting-IP": `198.51.100.${r % 200}` },
          body: JSON.stringify(events),
        });
        if (res.status === 202) accepted += PER_REQUEST;
      }
    }),
  );
  const sendSeconds = (performance.now() - started) / 1000;
  const totals = { messages: 0, events: 0, batches: 0, session_rpcs: 0, property_rpcs: 0, do_rows_written: 0 };
  for (let waited = 0; totals.events < accepted && waited < 120_000; waited += 500) {
    await new Promise((r) => setTimeout(r, 500));
    Object.assign(totals, {
      messages: 0,
      events: 0,
      batches: 0,
      session_rpcs: 0,
      property_rpcs: 0,
      do_rows_written: 0,
    });
    for (const match of stack.output().matchAll(/\{"tally_metric":"consumer_batch"[^}]*\}/g)) {
      const m = JSON.parse(match[0]) as typeof totals;
      totals.batches++;
      totals.messages += m.messages;
      totals.events += m.events;
      totals.session_rpcs += m.session_rpcs;
      totals.property_rpcs += m.property_rpcs;
      totals.do_rows_written += m.do_rows_written;
    }
  }
  const per1M = (x: number) => Math.round((x * 1_000_000) / totals.events).toLocaleString();
  console.log(
    `\nMeasured on the dev stack: ${accepted.toLocaleString()} events accepted in ${sendSeconds.toFixed(1)} s, ${totals.events.toLocaleString()} through the actors in ${totals.batches} consumer batches`,
  );
  console.log(`(${PER_REQUEST} events per request, one visitor each; ${PROPERTIES} properties). Per 1M events:`);
  console.log(`  Worker requests        ${per1M(requests)}`);
  console.log(
    `  queue operations       ${per1M(totals.messages * 3)}  (${totals.messages.toLocaleString()} messages × write/read/delete)`,
  );
  console.log(
    `  DO RPCs                ${per1M(totals.session_rpcs + totals.property_rpcs)}  (session ${per1M(totals.session_rpcs)}, property ${per1M(totals.property_rpcs)})`,
  );
  console.log(`  SQLite rows written    ${per1M(totals.do_rows_written)}`);
} finally {
  await stack.stop();
}
