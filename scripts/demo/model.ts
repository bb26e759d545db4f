/**
 * The demo's visitors, visits and history as data: who visits, from where, on what, and which
 * pages and events a visit makes. Pure and seeded; scripts/demo/traffic.ts sends it.
 */
import { prng } from "../../dev/prng.ts";

export type Rand = () => number;

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
export const oneOf = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

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

export const SITE = "https://example.com";
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

export const BOT_AGENTS = [
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
