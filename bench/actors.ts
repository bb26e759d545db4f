/**
 * `npm run bench` (actors): HyperLogLog error against exact counts, bytes of state per active
 * session as the SessionDO stores it, and a model of what 1M events cost at our spec's scale (many
 * properties and visitors, so batches spread wide) — counted by running the consumer's own grouping
 * (sessionActorKey, one RPC per session actor and per property actor per batch) over a generated
 * stream — with the monthly cost at 50B events/day. bench/cost.ts measures the same on the
 * dev stack.
 */
import { hash64 } from "../core/hash.ts";
import { encodeVisitor } from "../core/session/codec.ts";
import { HyperLogLog } from "../core/session/hll.ts";
import { advanceSession, EMPTY_VISITOR, SESSION_TIMEOUT_MS, type VisitorState } from "../core/session/session.ts";
import { MAX_DELTAS } from "../core/session/visitor-log.ts";
import { minuteOf } from "../core/session/window.ts";
import { makeEvent } from "../dev/fixtures/events.ts";

const EVENTS = Number(process.env.BENCH_COST_EVENTS ?? 1_000_000);
const EVENTS_PER_REQUEST = 5;
const MESSAGES_PER_BATCH = 100;
/** Session buckets per property: 64 is the dev default (SESSION_BUCKETS); BENCH_BUCKETS=1 shows a small site's single actor. */
const BUCKETS = Number(process.env.BENCH_BUCKETS ?? 64);
const PROPERTIES = 200;

function hllReport(): void {
  console.log("\nHyperLogLog p=14 vs exact counts (relative error, 5 trials each):");
  for (const n of [100, 10_000, 100_000, 1_000_000, 10_000_000]) {
    const trials = n >= 1_000_000 ? 2 : 5;
    const errors: number[] = [];
    for (let t = 0; t < trials; t++) {
      const h = new HyperLogLog();
      for (let i = 0; i < n; i++) h.add(`bench-${t}-${i}`);
      errors.push(Math.abs(h.count() - n) / n);
    }
    const worst = Math.max(...errors);
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    console.log(
      `  ${String(n).padStart(10)} distinct: mean ${(mean * 100).toFixed(2)}%, worst ${(worst * 100).toFixed(2)}% (σ = 0.81%)`,
    );
  }
}

/** Visitors drawn with a heavy tail (a few very active), sessions of a few minutes. */
function costReport(): void {
  const start = Date.UTC(2026, 10, 26, 9);
  const states = new Map<string, VisitorState>();
  const spacing = (24 * 3600_000) / EVENTS;
  let sessionRpcs = 0;
  let propertyRpcs = 0;
  let windowRows = 0;
  /** (actor, half hour) pairs: an actor arms its alarm at most once per session timeout. */
  const alarms = new Set<string>();
  let batches = 0;
  const batchSize = EVENTS_PER_REQUEST * MESSAGES_PER_BATCH;
  const stateBytes: number[] = [];
  for (let offset = 0; offset < EVENTS; offset += batchSize) {
    const actors = new Set<string>();
    const properties = new Set<string>();
    const windows = new Set<string>();
    for (let i = offset; i < Math.min(EVENTS, offset + batchSize); i++) {
      // Each request carries one visitor's events (a tracker batch); visitors come back now and then.
      const request = Math.floor(i / EVENTS_PER_REQUEST);
      const visitor = `v${Math.floor(Math.abs(Math.sin(request * 12.9898) * 43758.5453 * 1e3) % (EVENTS / 8))}`;
      const property = `UA-${hash64(visitor)[0] % PROPERTIES}-1`;
      const at = start + i * spacing;
      const e = makeEvent({
        property_id: property,
        client_id: visitor,
        event_id: `e${i}`,
        event_timestamp: at,
        page_path: `/p/${i % 50}`,
      });
      const step = advanceSession(states.get(visitor) ?? EMPTY_VISITOR, e);
      states.set(visitor, step.state);
      if (i % 997 === 0 && step.state.session) stateBytes.push(encodeVisitor(step.state).length);
      const actor = `${property}|${hash64(visitor)[1] % BUCKETS}`;
      actors.add(actor);
      alarms.add(`${actor}|${Math.floor(at / SESSION_TIMEOUT_MS)}`);
      properties.add(property);
      windows.add(`${property}|${minuteOf(at)}`);
    }
    batches++;
    sessionRpcs += actors.size;
    propertyRpcs += properties.size;
    windowRows += windows.size;
  }
  const per1M = (x: number) => (x * 1_000_000) / EVENTS;
  const requests = EVENTS / EVENTS_PER_REQUEST;
  const queueOps = (requests * 3) / 1; // one message per request: write, read, delete
  const rpcs = sessionRpcs + propertyRpcs;
  // SQLite rows written: one visitor-log row per session-actor call, however many visitors it
  // touches (durable-objects/visitor-store.ts), plus a snapshot every MAX_DELTAS calls (one chunk
  // for actors of this size); one window row per property-minute per batch; one alarm row per
  // actor per session timeout (setAlarm counts as a row write; an armed alarm is not set again).
  const sessionRows = sessionRpcs + sessionRpcs / MAX_DELTAS + alarms.size;
  const rows = sessionRows + windowRows;
  const avgBytes = Math.round(stateBytes.reduce((a, b) => a + b, 0) / Math.max(1, stateBytes.length));
  console.log(
    `\nPer 1M events (${EVENTS.toLocaleString()} simulated over one day; ${EVENTS_PER_REQUEST} events/request, ${MESSAGES_PER_BATCH} messages/consumer batch, ${PROPERTIES} properties, ${BUCKETS} session buckets):`,
  );
  console.log(`  Worker requests        ${per1M(requests).toFixed(0)}`);
  console.log(`  queue operations       ${per1M(queueOps).toFixed(0)}  (1 message per request × write/read/delete)`);
  console.log(`  consumer batches       ${per1M(batches).toFixed(0)}`);
  console.log(
    `  DO RPCs                ${per1M(rpcs).toFixed(0)}  (session ${per1M(sessionRpcs).toFixed(0)}, property ${per1M(propertyRpcs).toFixed(0)})`,
  );
  console.log(
    `  SQLite rows written    ${per1M(rows).toFixed(0)}  (session actors ${per1M(sessionRows).toFixed(0)}, live windows ${per1M(windowRows).toFixed(0)})`,
  );
  console.log(`  state per active session ${avgBytes} bytes (as the SessionDO stores it)`);
  const perDay = 50e9 / 1e6;
  const monthly = {
    workers: (per1M(requests) / 1e6) * 0.3 * perDay * 30,
    queues: (per1M(queueOps) / 1e6) * 0.4 * perDay * 30,
    doRequests: (per1M(rpcs) / 1e6) * 0.15 * perDay * 30,
    doRows: (per1M(rows) / 1e6) * 1.0 * perDay * 30,
  };
  const total = Object.values(monthly).reduce((a, b) => a + b, 0);
  console.log(
    "\nModelled monthly cost at 50B events/day (list prices in REFERENCE.md; excludes ClickHouse, R2, CPU time):",
  );
  for (const [k, v] of Object.entries(monthly)) console.log(`  ${k.padEnd(12)} $${Math.round(v).toLocaleString()}`);
  console.log(`  total        $${Math.round(total).toLocaleString()} of the spec's $121,000 budget`);
}

hllReport();
costReport();
