/**
 * `npm run bench` (ingest): the cost of /collect against a trivial route, in one workerd.
 *
 * The Worker is bundled by wrangler and run in one workerd process through Miniflare's API (not
 * `wrangler dev`, whose proxy and logging add milliseconds and hide the code's own cost). Load
 * comes from a second process (autocannon), targets alternate A B C A B C, and the report gives
 * medians of requests/s and of workerd CPU per request, with ratios to the trivial route.
 *
 * On two or more cores workerd is pinned to one and autocannon to another (taskset), so the load
 * generator's own work does not land on workerd's core: unpinned, one target's CPU per request
 * varied by ±25% between rounds of one run. Every request's events carry a page URL of their own
 * (autocannon's `[<id>]` replacement), so nothing keyed by URL is warm that real traffic would
 * not find warm; the user agent repeats, as it does in real traffic (see the UA cache report).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { LruCache } from "../core/enrich/lru.ts";
import { parseUserAgent, type UserAgentInfo } from "../core/enrich/user-agent.ts";
import { bundleWorker } from "./bundle.ts";
import { edgeWorkerOptions, ourWorkerd, workerdCpuSeconds } from "./workerd.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const require = createRequire(import.meta.url);
/** workerd on core 0, the load generator on core 1 (see above). */
const PINNED = availableParallelism() >= 2 && spawnSync("taskset", ["-V"]).status === 0;

const BROWSER_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

function event(i: number) {
  return {
    property_id: "UA-DEMO-1",
    client_id: `client-${i % 97}`,
    event_type: i % 5 === 0 ? "signup" : "pageview",
    page_url: `https://shop.example.com/products/item-${i}-[<id>]?utm_source=newsletter&utm_medium=email`,
    page_title: `Item ${i} — Example Shop`,
    referrer: "https://www.google.com/",
    user_agent:
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    screen_resolution: "1920x1080",
    viewport_size: "1280x720",
    language: "en-US",
    custom_dimensions: { plan: "pro" },
  };
}

interface Target {
  name: string;
  method: "GET" | "POST";
  path: string;
  body?: string;
  events: number;
  /** bench/worker-entry.ts variant: which local simulators to swap out. */
  variant?: "edge-only" | "edge-code" | "trivial-post";
}

const ONE = JSON.stringify(event(1));
const TWENTY = JSON.stringify({ events: Array.from({ length: 20 }, (_, i) => event(i)) });
const targets: Target[] = [
  { name: "trivial GET /health", method: "GET", path: "/health", events: 0 },
  { name: "trivial POST", method: "POST", path: "/collect", body: ONE, events: 0, variant: "trivial-post" },
  { name: "/collect, 1 event", method: "POST", path: "/collect", body: ONE, events: 1 },
  { name: "/collect, 20 events", method: "POST", path: "/collect", body: TWENTY, events: 20 },
  { name: "edge only, 1 event", method: "POST", path: "/collect", body: ONE, events: 1, variant: "edge-only" },
  { name: "edge only, 20 events", method: "POST", path: "/collect", body: TWENTY, events: 20, variant: "edge-only" },
  { name: "edge code, 1 event", method: "POST", path: "/collect", body: ONE, events: 1, variant: "edge-code" },
  { name: "edge code, 20 events", method: "POST", path: "/collect", body: TWENTY, events: 20, variant: "edge-code" },
];

/** Runs autocannon in its own process so the load generator does not share workerd's core. */
function load(url: string, target: Target): Promise<{ rps: number; requests: number; non2xx: number; p50: number }> {
  const bin = join(dirname(require.resolve("autocannon/package.json")), "autocannon.js");
  const args = [bin, "-j", "-c", String(CONNECTIONS), "-d", String(SECONDS), "-m", target.method];
  args.push("-H", `user-agent=${BROWSER_UA}`, "-H", "cf-connecting-ip=203.0.113.7");
  if (target.variant) args.push("-H", `x-bench-variant=${target.variant}`);
  if (target.body) args.push("-H", "content-type=application/json", "-b", target.body, "-I");
  args.push(url + target.path);
  return new Promise((resolve, reject) => {
    const command = PINNED ? ["taskset", "-c", "1", process.execPath, ...args] : [process.execPath, ...args];
    const child = spawn(command[0] ?? process.execPath, command.slice(1), { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", () => {
      try {
        const r = JSON.parse(out);
        resolve({ rps: r.requests.average, requests: r.requests.total, non2xx: r.non2xx, p50: r.latency.p50 });
      } catch (error) {
        reject(error);
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

// Miniflare 5 (the one wrangler 4.164 uses) takes a new options shape; the v4 shape converts.
const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [edgeWorkerOptions(bundleWorker("bench/worker-entry.ts", join(".data", "bench")))],
  }),
);
const url = (await mf.ready).toString().replace(/\/$/, "");
if (PINNED) for (const pid of ourWorkerd()) execFileSync("taskset", ["-a", "-p", "-c", "0", pid], { stdio: "ignore" });
const created = await fetch(`${url}/api/v1/properties`, {
  method: "POST",
  headers: { Authorization: "Bearer bench-admin-token-0123456789abcdef0123", "Content-Type": "application/json" },
  body: JSON.stringify({ property_id: "UA-DEMO-1", name: "Bench", domains: ["shop.example.com"] }),
});
if (created.status !== 201)
  throw new Error(`creating the bench property failed: ${created.status} ${await created.text()}`);

const results = new Map<string, { rps: number[]; cpuUs: number[]; p50: number[] }>();
for (const t of targets) results.set(t.name, { rps: [], cpuUs: [], p50: [] });
for (const t of targets) await load(url, { ...t }); // warm-up: JIT, UA-free code paths, queue setup
for (let round = 1; round <= ROUNDS; round++) {
  for (const target of targets) {
    const before = workerdCpuSeconds();
    const r = await load(url, target);
    const cpu = workerdCpuSeconds() - before;
    if (r.non2xx > 0) throw new Error(`${target.name}: ${r.non2xx} non-2xx answers`);
    const slot = results.get(target.name);
    slot?.rps.push(r.rps);
    slot?.cpuUs.push((cpu / r.requests) * 1e6);
    slot?.p50.push(r.p50);
    process.stderr.write(`round ${round}: ${target.name} ${Math.round(r.rps)} req/s\n`);
  }
}
await mf.dispose();

const base = results.get(targets[0]?.name ?? "");
const pinning = PINNED ? "workerd pinned to core 0, autocannon to core 1" : "not pinned";
console.log(
  `\nIngest bench: ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections, one workerd (${pinning}); medians\n`,
);
console.log(
  "edge only = the same app with a queue binding that drops messages (Miniflare's queue simulator runs in\n" +
    "the same workerd); edge code = also rate limiters that always allow (Miniflare's limiter simulator costs\n" +
    "~1 ms of CPU per call here). Production has neither simulator.\n",
);
const post = results.get("trivial POST");
console.log(
  "target                  req/s    events/s   CPU µs/req   p50 ms   CPU vs trivial GET   vs trivial POST   per round vs GET (p25–p75)",
);
for (const t of targets) {
  const r = results.get(t.name);
  if (!r || !base || !post) continue;
  const rps = median(r.rps);
  const cpu = median(r.cpuUs);
  const vsGet = cpu / median(base.cpuUs);
  const vsPost = cpu / median(post.cpuUs);
  // Each round's figure over the trivial GET of the same round: how much the ratio moves between rounds.
  const paired = r.cpuUs.map((c, i) => c / (base.cpuUs[i] ?? Number.NaN)).sort((a, b) => a - b);
  const quartile = (q: number) => (paired[Math.floor((paired.length - 1) * q)] ?? Number.NaN).toFixed(2);
  console.log(
    `${t.name.padEnd(22)} ${rps.toFixed(0).padStart(6)} ${(rps * t.events).toFixed(0).padStart(10)} ${cpu.toFixed(0).padStart(12)} ${median(r.p50).toFixed(1).padStart(8)} ${vsGet.toFixed(2).padStart(17)}× ${vsPost.toFixed(2).padStart(16)}×   ${quartile(0.25)}–${quartile(0.75)}×`,
  );
}

uaCacheReport();

/**
 * UA cache hit rate for a realistic mix: hits drawn from a Zipf distribution over distinct user
 * agents (a few browsers dominate), through the same parser and LRU the edge uses.
 */
function uaCacheReport(): void {
  console.log("\nUser-agent cache (LRU of 5,000 per isolate), 200,000 hits drawn Zipf(s=1.1):");
  for (const distinct of [2_000, 20_000, 200_000]) {
    const cache = new LruCache<string, UserAgentInfo>(5_000);
    const weights = Array.from({ length: distinct }, (_, r) => 1 / (r + 1) ** 1.1);
    const total = weights.reduce((a, b) => a + b, 0);
    const cumulative: number[] = [];
    let acc = 0;
    for (const w of weights) {
      acc += w / total;
      cumulative.push(acc);
    }
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) {
      const u = rand();
      let lo = 0;
      let hi = distinct - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] ?? 1) < u) lo = mid + 1;
        else hi = mid;
      }
      cache.getOrCompute(`${BROWSER_UA} variant/${lo}`, (ua) => parseUserAgent(ua.replace(/ variant\/\d+$/, "")));
    }
    const rate = cache.hits / (cache.hits + cache.misses);
    const perHit = ((performance.now() - started) * 1000) / 200_000;
    console.log(
      `  ${String(distinct).padStart(7)} distinct UAs: hit rate ${(rate * 100).toFixed(1)}%, ${perHit.toFixed(2)} µs per lookup`,
    );
  }
}
