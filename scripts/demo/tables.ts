/**
 * The demo's tables: devices, places, the site's pages and links, how visitors arrive, crawlers,
 * plans and the hours of the day, each with the weights the visit generator (model.ts) draws by.
 */

/** Screens and browsers, desktop and mobile, by share of visitors. */
export const DEVICES = [
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

/** Countries by share of visitors, each with its language and a few (region, city) pairs. */
export const PLACES: readonly {
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

/** The demo site: its pages' titles, and where each page leads. */
export const SITE = "https://example.com";
export const TITLES: Record<string, string> = {
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
export const NEXT: Record<string, readonly string[]> = {
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
/** How a visit starts: direct, a referrer, a campaign; and on which pages. */
export const ARRIVALS: readonly Arrival[] = [
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

/** Crawlers and scripts, for the bot report. */
export const BOT_AGENTS = [
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "python-requests/2.32.3",
];

/** The plans a signup picks. */
export const PLANS = [
  { weight: 6, plan: "free" },
  { weight: 3, plan: "pro" },
  { weight: 1, plan: "team" },
];

/** Monthly price by plan (USD), sent as a purchase's revenue. */
export const PRICES: Record<string, number> = { pro: 29, team: 99 };

/** Visits by UTC hour of the day. */
export const HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 10, 11, 12, 12, 11, 10, 9, 8, 7, 6, 4, 3];
