/**
 * Demo traffic for the demo property, so every dashboard module has something to show:
 * - history: `historyDays` of visits imported through `POST /api/v1/import` (NDJSON; import may
 *   carry geography, which public endpoints take only from Cloudflare's edge — a placeholder under
 *   `wrangler dev`), skipped when the property already has history;
 * - goals: Signup (event), Pricing viewed (page), Docs reader (page pattern), created if missing;
 * - live: a steady trickle of visits through `POST /collect`, as browsers send them (a browser user
 *   agent — Node's own would be filtered as a bot), plus the odd crawler for the bot report.
 *
 * `npm run demo` (or `npm run dev -- --demo`) runs it once the stack is up; alone:
 *   node scripts/demo-traffic.ts [--url http://localhost:8787] [--days 30] [--no-live]
 * with ADMIN_TOKEN from the environment or .dev.vars. The visits are random but seeded.
 */

import { existsSync, readFileSync } from "node:fs";
import { prng } from "../core/prng.ts";

type Rand = () => number;

/** Seeded, so demo data repeats run to run. */
export const seeded = (seed: number): Rand => prng(seed);

function pick<T extends { weight: number }>(rand: Rand, items: readonly T[]): T {
  const total = items.reduce((n, i) => n + i.weight, 0);
  let r = rand() * total;
  for (const item of items) {
    r -= item.weight;
    if (r <= 0) return item;
  }
  return items[items.length - 1] as T;
}
const oneOf = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

const DEVICES = [
  {
    weight: 34,
    screen: "1920x1080",
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  },
  {
    weight: 14,
    screen: "1440x900",
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  },
  {
    weight: 9,
    screen: "2560x1440",
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  },
  { weight: 6, screen: "1920x1080", ua: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" },
  {
    weight: 5,
    screen: "1536x864",
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  },
  {
    weight: 18,
    screen: "390x844",
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  },
  {
    weight: 11,
    screen: "412x915",
    ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  },
  {
    weight: 3,
    screen: "820x1180",
    ua: "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  },
] as const;

const PLACES: readonly {
  weight: number;
  country: string;
  language: string;
  places: readonly (readonly [string, string])[];
}[] = [
  {
    weight: 30,
    country: "US",
    language: "en-US",
    places: [
      ["California", "San Francisco"],
      ["New York", "New York"],
      ["Texas", "Austin"],
      ["Washington", "Seattle"],
    ],
  },
  {
    weight: 10,
    country: "GB",
    language: "en-GB",
    places: [
      ["England", "London"],
      ["England", "Manchester"],
      ["Scotland", "Edinburgh"],
    ],
  },
  {
    weight: 10,
    country: "DE",
    language: "de-DE",
    places: [
      ["Berlin", "Berlin"],
      ["Bavaria", "Munich"],
      ["Hamburg", "Hamburg"],
    ],
  },
  {
    weight: 7,
    country: "IN",
    language: "en-IN",
    places: [
      ["Karnataka", "Bengaluru"],
      ["Maharashtra", "Mumbai"],
    ],
  },
  {
    weight: 6,
    country: "FR",
    language: "fr-FR",
    places: [
      ["Île-de-France", "Paris"],
      ["Auvergne-Rhône-Alpes", "Lyon"],
    ],
  },
  {
    weight: 5,
    country: "CA",
    language: "en-CA",
    places: [
      ["Ontario", "Toronto"],
      ["British Columbia", "Vancouver"],
    ],
  },
  { weight: 5, country: "BR", language: "pt-BR", places: [["São Paulo", "São Paulo"]] },
  { weight: 4, country: "NL", language: "nl-NL", places: [["North Holland", "Amsterdam"]] },
  { weight: 4, country: "JP", language: "ja-JP", places: [["Tokyo", "Tokyo"]] },
  {
    weight: 4,
    country: "AU",
    language: "en-AU",
    places: [
      ["New South Wales", "Sydney"],
      ["Victoria", "Melbourne"],
    ],
  },
  {
    weight: 3,
    country: "ES",
    language: "es-ES",
    places: [
      ["Madrid", "Madrid"],
      ["Catalonia", "Barcelona"],
    ],
  },
  { weight: 3, country: "SE", language: "sv-SE", places: [["Stockholm", "Stockholm"]] },
  { weight: 3, country: "PL", language: "pl-PL", places: [["Masovia", "Warsaw"]] },
  { weight: 2, country: "NG", language: "en-NG", places: [["Lagos", "Lagos"]] },
  { weight: 2, country: "MX", language: "es-MX", places: [["Mexico City", "Mexico City"]] },
  { weight: 2, country: "SG", language: "en-SG", places: [["", "Singapore"]] },
];

const SITE = "https://example.com";
const TITLES: Record<string, string> = {
  "/": "Tally — analytics you can trust",
  "/pricing": "Pricing — Tally",
  "/features": "Features — Tally",
  "/signup": "Create your account — Tally",
  "/login": "Sign in — Tally",
  "/about": "About us — Tally",
  "/blog": "Blog — Tally",
  "/blog/launch-week": "Launch week recap — Tally blog",
  "/blog/cookieless-analytics": "How cookieless analytics works — Tally blog",
  "/blog/clickhouse-at-the-edge": "ClickHouse at the edge — Tally blog",
  "/docs": "Documentation — Tally",
  "/docs/getting-started": "Getting started — Tally docs",
  "/docs/api": "Query API — Tally docs",
  "/docs/tracker": "The tracker — Tally docs",
  "/changelog": "Changelog — Tally",
};
const NEXT: Record<string, readonly string[]> = {
  "/": ["/pricing", "/features", "/blog", "/docs", "/signup", "/pricing", "/about"],
  "/pricing": ["/signup", "/signup", "/features", "/docs", "/"],
  "/features": ["/pricing", "/signup", "/docs/getting-started", "/"],
  "/signup": ["/docs/getting-started", "/"],
  "/login": ["/docs", "/"],
  "/about": ["/", "/blog", "/pricing"],
  "/blog": ["/blog/launch-week", "/blog/cookieless-analytics", "/blog/clickhouse-at-the-edge"],
  "/blog/launch-week": ["/pricing", "/blog", "/"],
  "/blog/cookieless-analytics": ["/features", "/blog", "/pricing"],
  "/blog/clickhouse-at-the-edge": ["/docs", "/blog", "/"],
  "/docs": ["/docs/getting-started", "/docs/api", "/docs/tracker"],
  "/docs/getting-started": ["/docs/tracker", "/docs/api", "/signup"],
  "/docs/api": ["/docs", "/changelog"],
  "/docs/tracker": ["/docs/api", "/signup"],
  "/changelog": ["/", "/docs"],
};

interface Arrival {
  weight: number;
  referrer?: string;
  /** Appended to the landing page's URL. */
  query?: string;
  entries: readonly string[];
}
const ARRIVALS: readonly Arrival[] = [
  { weight: 28, entries: ["/", "/", "/", "/pricing", "/docs", "/login"] },
  {
    weight: 24,
    referrer: "https://www.google.com/",
    entries: ["/", "/blog/cookieless-analytics", "/docs/getting-started", "/features"],
  },
  { weight: 4, referrer: "https://www.bing.com/", entries: ["/", "/features"] },
  { weight: 3, referrer: "https://duckduckgo.com/", entries: ["/", "/blog/cookieless-analytics"] },
  { weight: 6, referrer: "https://news.ycombinator.com/item?id=42000000", entries: ["/blog/clickhouse-at-the-edge"] },
  { weight: 5, referrer: "https://t.co/a1b2c3", entries: ["/blog/launch-week", "/"] },
  { weight: 4, referrer: "https://www.reddit.com/r/webdev/", entries: ["/blog/cookieless-analytics"] },
  { weight: 3, referrer: "https://www.linkedin.com/feed/", entries: ["/blog/launch-week", "/about"] },
  { weight: 4, referrer: "https://chatgpt.com/", entries: ["/docs/api", "/docs/getting-started"] },
  { weight: 4, referrer: "https://github.com/tally/tally", entries: ["/docs/getting-started", "/"] },
  {
    weight: 6,
    query: "utm_source=newsletter&utm_medium=email&utm_campaign=november-launch",
    entries: ["/blog/launch-week"],
  },
  {
    weight: 5,
    query: "utm_source=google&utm_medium=cpc&utm_campaign=brand-search&gclid=Cj0KCQ",
    entries: ["/pricing", "/"],
  },
  {
    weight: 2,
    query: "utm_source=twitter&utm_medium=social&utm_campaign=launch-week&utm_content=video",
    entries: ["/"],
  },
  { weight: 2, referrer: "https://www.producthunt.com/posts/tally", query: "utm_source=producthunt", entries: ["/"] },
];

const BOT_AGENTS = [
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "python-requests/2.32.3",
];

export interface Visitor {
  id: string;
  device: (typeof DEVICES)[number];
  country: string;
  region: string;
  city: string;
  language: string;
}

/** One event as /collect and import take it (import also reads country/region/city). */
export interface DemoEvent {
  event_type: string;
  page_url: string;
  client_id: string;
  event_timestamp: string;
  user_agent: string;
  page_title?: string;
  referrer?: string;
  screen_resolution?: string;
  language?: string;
  custom_dimensions?: Record<string, string>;
  country?: string;
  region?: string;
  city?: string;
}

export function newVisitor(rand: Rand): Visitor {
  const place = pick(rand, PLACES);
  const [region, city] = oneOf(rand, place.places);
  return {
    id: `demo-${Math.floor(rand() * 2 ** 48).toString(36)}`,
    device: pick(rand, DEVICES),
    country: place.country,
    region,
    city,
    language: place.language,
  };
}

/** The events of one visit starting at `start` (ms): an arrival, a walk through the site, a few custom events. */
export function visitEvents(rand: Rand, visitor: Visitor, start: number, withGeo: boolean): DemoEvent[] {
  const arrival = pick(rand, ARRIVALS);
  const base = {
    client_id: visitor.id,
    user_agent: visitor.device.ua,
    screen_resolution: visitor.device.screen,
    language: visitor.language,
    ...(withGeo ? { country: visitor.country, region: visitor.region, city: visitor.city } : {}),
  };
  const events: DemoEvent[] = [];
  let path = oneOf(rand, arrival.entries);
  let at = start;
  const views = rand() < 0.42 ? 1 : 2 + Math.floor(rand() * 5);
  for (let i = 0; i < views; i++) {
    const url = `${SITE}${path}${i === 0 && arrival.query ? `?${arrival.query}` : ""}`;
    const time = new Date(at).toISOString();
    events.push({
      ...base,
      event_type: "pageview",
      page_url: url,
      page_title: TITLES[path] ?? "Tally",
      event_timestamp: time,
      ...(i === 0 && arrival.referrer ? { referrer: arrival.referrer } : {}),
    });
    const custom = (event_type: string, props: Record<string, string>) =>
      events.push({
        ...base,
        event_type,
        page_url: `${SITE}${path}`,
        event_timestamp: new Date(at + 5_000 + Math.floor(rand() * 20_000)).toISOString(),
        custom_dimensions: props,
      });
    if (path === "/pricing" && rand() < 0.3)
      custom("cta_click", { location: oneOf(rand, ["pricing", "hero", "footer"]) });
    if (path === "/signup" && rand() < 0.55) custom("signup", { plan: pick(rand, PLANS).plan });
    if (path.startsWith("/docs/") && rand() < 0.12)
      custom("download", { file: oneOf(rand, ["tally-sdk.zip", "tally-cli.tar.gz"]) });
    if (path.startsWith("/blog/") && rand() < 0.08) custom("outbound_link", { url: "https://github.com/tally/tally" });
    at += 20_000 + Math.floor(rand() * 160_000);
    path = oneOf(rand, NEXT[path] ?? ["/"]);
  }
  return events;
}
const PLANS = [
  { weight: 6, plan: "free" },
  { weight: 3, plan: "pro" },
  { weight: 1, plan: "team" },
];

const HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 10, 11, 12, 12, 11, 10, 9, 8, 7, 6, 4, 3];

/** History as NDJSON lines for import: `days` days ending `endMs`, a weekly rhythm, growth, returning visitors, a few bots. */
export function historyLines(options: { days: number; visitsPerDay: number; endMs: number; seed?: number }): string[] {
  const rand = seeded(options.seed ?? 42);
  const returning: Visitor[] = [];
  const lines: string[] = [];
  const DAY = 86_400_000;
  const firstDay = Math.floor(options.endMs / DAY) * DAY - (options.days - 1) * DAY;
  for (let d = 0; d < options.days; d++) {
    const dayStart = firstDay + d * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    const rhythm = weekday === 0 || weekday === 6 ? 0.6 : 1;
    const growth = 0.7 + (0.3 * d) / Math.max(1, options.days - 1);
    const visits = Math.round(options.visitsPerDay * rhythm * growth * (0.85 + rand() * 0.3));
    for (let v = 0; v < visits; v++) {
      const hour = pick(
        rand,
        HOUR_WEIGHTS.map((weight, h) => ({ weight, h })),
      ).h;
      const start = dayStart + hour * 3_600_000 + Math.floor(rand() * 3_600_000);
      if (start >= options.endMs) continue;
      const back = returning.length > 20 && rand() < 0.3;
      const visitor = back ? oneOf(rand, returning) : newVisitor(rand);
      if (!back && rand() < 0.5) returning.push(visitor);
      for (const e of visitEvents(rand, visitor, start, true))
        if (Date.parse(e.event_timestamp) < options.endMs) lines.push(JSON.stringify(e));
    }
    for (let b = 0; b < Math.round(visits * 0.04); b++) {
      const at = dayStart + Math.floor(rand() * DAY);
      if (at >= options.endMs) continue;
      lines.push(
        JSON.stringify({
          event_type: "pageview",
          page_url: `${SITE}${oneOf(rand, Object.keys(TITLES))}`,
          client_id: `bot-${Math.floor(rand() * 1e9).toString(36)}`,
          event_timestamp: new Date(at).toISOString(),
          user_agent: oneOf(rand, BOT_AGENTS),
          country: "US",
        }),
      );
    }
  }
  return lines;
}

interface Target {
  url: string;
  token: string;
  propertyId: string;
}

/**
 * A request to the stack, retried a few times when the Worker is momentarily unavailable:
 * `wrangler dev` restarts it whenever a source file changes, answering 503 meanwhile.
 */
async function call(t: Target, path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${t.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${t.token}`, "Content-Type": "application/json", ...init.headers },
    }).catch((error: unknown) => {
      if (attempt >= 5) throw error;
      return undefined;
    });
    if (res && (res.status !== 503 || attempt >= 5)) return res;
    await res?.body?.cancel();
    await new Promise((r) => setTimeout(r, 2_000 * attempt));
  }
}

export const DEMO_GOALS = [
  { name: "Signup", kind: "event", event_name: "signup" },
  { name: "Pricing viewed", kind: "page", page_path: "/pricing" },
  { name: "Docs reader", kind: "page", page_path: "/docs/**" },
] as const;

/** Creates the demo goals that are missing. */
export async function ensureGoals(t: Target): Promise<number> {
  const base = `/api/v1/properties/${encodeURIComponent(t.propertyId)}/goals`;
  const res = await call(t, base);
  if (!res.ok) throw new Error(`goals: ${res.status} ${await res.text()}`);
  const { goals } = (await res.json()) as { goals: { name: string }[] };
  let added = 0;
  for (const goal of DEMO_GOALS) {
    if (goals.some((g) => g.name.toLowerCase() === goal.name.toLowerCase())) continue;
    const created = await call(t, base, { method: "POST", body: JSON.stringify(goal) });
    if (created.ok) added++;
  }
  return added;
}

/** Whether the property already has events before today (then history is not imported twice). */
async function hasHistory(t: Target): Promise<boolean> {
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const from = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
  const res = await call(t, "/api/v1/query", {
    method: "POST",
    body: JSON.stringify({
      property_id: t.propertyId,
      metrics: ["events"],
      date_range: [from, yesterday],
      include: { bots: true },
    }),
  });
  if (!res.ok) return false;
  const body = (await res.json()) as { results: { metrics: number[] }[] };
  return (body.results[0]?.metrics[0] ?? 0) > 0;
}

/**
 * Imports history in requests of 1,000 lines, a second apart, so the consumer writes it in modest
 * batches rather than one burst; answers how many events were accepted and refused.
 */
export async function importHistory(
  t: Target,
  options: { days: number; visitsPerDay: number; endMs?: number; seed?: number },
): Promise<{ accepted: number; rejected: number }> {
  const lines = historyLines({ ...options, endMs: options.endMs ?? Date.now() - 2 * 3_600_000 });
  const tally = { accepted: 0, rejected: 0 };
  for (let i = 0; i < lines.length; i += 1_000) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1_000));
    const res = await call(t, `/api/v1/import?property=${encodeURIComponent(t.propertyId)}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-ndjson" },
      body: `${lines.slice(i, i + 1_000).join("\n")}\n`,
    });
    if (!res.ok) throw new Error(`import: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { accepted: number; rejected: number };
    tally.accepted += body.accepted;
    tally.rejected += body.rejected;
  }
  return tally;
}

/** Sends one event to /collect the way a browser's tracker would (no geography: the edge decides). */
export async function sendLive(url: string, propertyId: string, event: DemoEvent): Promise<boolean> {
  const { country: _c, region: _r, city: _ci, ...body } = event;
  const res = await fetch(`${url}/collect`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", "User-Agent": event.user_agent },
    body: JSON.stringify({ ...body, property_id: propertyId }),
  });
  await res.body?.cancel();
  return res.status === 202;
}

export interface LiveTraffic {
  stop(): Promise<void>;
  /** Events accepted so far. */
  sent(): number;
}

/**
 * A trickle of live visits: visitors arrive every few seconds and walk the site, each pageview sent
 * when it happens (so Real-time shows people arriving, browsing and leaving), with an occasional crawler.
 */
export function startLiveTraffic(options: {
  url: string;
  propertyId: string;
  seed?: number;
  meanGapMs?: number;
}): LiveTraffic {
  const rand = seeded(options.seed ?? Date.now());
  const gap = options.meanGapMs ?? 2_500;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let accepted = 0;
  const later = (ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) work();
    }, ms);
    timers.add(timer);
  };
  const send = (event: DemoEvent) => {
    const p = sendLive(options.url, options.propertyId, event).then(
      (ok) => {
        if (ok) accepted++;
      },
      () => undefined,
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const arrive = () => {
    const events = visitEvents(rand, newVisitor(rand), Date.now(), false);
    // Replay the visit in real time, ten times faster than a person reads.
    const t0 = Date.parse(events[0]?.event_timestamp ?? "");
    for (const e of events) {
      const delay = (Date.parse(e.event_timestamp) - t0) / 10;
      later(delay, () => send({ ...e, event_timestamp: new Date().toISOString() }));
    }
    if (rand() < 0.05)
      send({
        event_type: "pageview",
        page_url: `${SITE}/`,
        client_id: `bot-${Math.floor(rand() * 1e9).toString(36)}`,
        event_timestamp: new Date().toISOString(),
        user_agent: oneOf(rand, BOT_AGENTS),
      });
    later(gap * (0.3 + rand() * 1.4), arrive);
  };
  arrive();
  return {
    sent: () => accepted,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Everything `npm run demo` does once the stack answers: goals, history (once), then live traffic. */
export async function runDemo(options: {
  url: string;
  token: string;
  propertyId?: string;
  days?: number;
  visitsPerDay?: number;
  live?: boolean;
  log?: (line: string) => void;
}): Promise<LiveTraffic | undefined> {
  const t: Target = { url: options.url, token: options.token, propertyId: options.propertyId ?? "UA-DEMO-1" };
  const log = options.log ?? console.log;
  const added = await ensureGoals(t);
  if (added) log(`demo: created ${added} goals`);
  if (await hasHistory(t)) log("demo: history already imported; not importing it again");
  else {
    const days = options.days ?? 30;
    const result = await importHistory(t, { days, visitsPerDay: options.visitsPerDay ?? 140 });
    log(`demo: imported ${days} days of history (${result.accepted} events accepted, ${result.rejected} refused)`);
  }
  if (options.live === false) return undefined;
  log("demo: sending live traffic to /collect (a visitor every few seconds)");
  return startLiveTraffic({ url: t.url, propertyId: t.propertyId });
}

function adminTokenFromDevVars(): string | undefined {
  if (!existsSync(".dev.vars")) return undefined;
  return /^ADMIN_TOKEN=(\S+)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1];
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const url = flag("--url") ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const token = process.env.ADMIN_TOKEN || adminTokenFromDevVars();
  if (!token) {
    console.error("No admin token: set ADMIN_TOKEN or run `npm run dev` once (it writes .dev.vars).");
    process.exit(1);
  }
  const live = await runDemo({ url, token, days: Number(flag("--days") ?? 30), live: !args.includes("--no-live") });
  if (live) {
    const stop = () => void live.stop().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  }
}
