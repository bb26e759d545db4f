/**
 * The traffic model behind bench/generate-events.ts: pages, device profiles, places, arrivals,
 * event kinds and the daily and weekly cycle, as weighted tables the generator's SQL indexes into.
 * Data and its shaping only; the SQL that draws from it stays with the generator.
 */
import { classifyReferrer } from "../core/enrich/referrer.ts";
import { DAY_MS } from "../core/time.ts";

// ---------------------------------------------------------------------------------------------
// The distributions, as parallel arrays the SQL indexes into (weights become cumulative shares).

const BLOG_SLUGS = `launch-week why-we-built-tally cookieless-analytics clickhouse-at-the-edge privacy-first-metrics
  ga4-migration-guide bounce-rate-explained utm-tags-done-right funnels-that-matter retention-cohorts
  event-sourcing-analytics durable-objects-in-production hyperloglog-in-practice server-side-tracking core-web-vitals
  seo-basics content-marketing-metrics open-source-analytics self-hosting-vs-cloud gdpr-checklist`.split(/\s+/);
const DOC_SECTIONS = ["getting-started", "tracker", "api", "reports", "integrations", "self-hosting", "privacy"];
const DOC_PAGES = ["overview", "install", "configuration", "events", "goals", "funnels", "faq", "reference", "limits"];
const INTEGRATIONS = ["wordpress", "shopify", "nextjs", "gatsby", "hugo", "webflow", "ghost", "react", "vue", "astro"];

/** ~300 paths, most popular first: a rank drawn log-uniformly gives Zipf(s ≈ 1) page views. */
function pagePaths(): string[] {
  const head = ["/", "/pricing", "/blog", "/features", "/docs", "/about", "/signup", "/login", "/changelog"];
  const blog = [
    ...BLOG_SLUGS.map((s) => `/blog/${s}`),
    ...Array.from({ length: 130 }, (_, i) => `/blog/${BLOG_SLUGS[i % 20]}-part-${Math.floor(i / 20) + 2}`),
  ];
  const docs = DOC_SECTIONS.flatMap((s) => DOC_PAGES.map((p) => `/docs/${s}/${p}`));
  const rest = [
    ...INTEGRATIONS.map((i) => `/integrations/${i}`),
    ...INTEGRATIONS.map((i) => `/compare/${i}-analytics`),
    ..."/contact /careers /security /terms /privacy /status /download".split(" "),
  ];
  // Interleave so every section has popular and rare pages.
  const out = [...head];
  while (blog.length + docs.length + rest.length > 0) {
    for (const list of [blog, blog, docs, rest]) {
      const next = list.shift();
      if (next !== undefined) out.push(next);
    }
  }
  return out;
}

/**
 * Device profiles, one a line: weight | device | browser | version | OS | version | screen | viewport |
 * bot reason | user agent. Bot profiles (device `bot`) are drawn only for bot sessions.
 */
const PROFILES = table(`
26|desktop|Chrome|131|Windows|10|1920x1080|1903x969||Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
11|desktop|Chrome|131|Mac OS|10.15.7|1440x900|1440x789||Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
7|desktop|Safari|18.1|Mac OS|10.15.7|1512x982|1512x859||Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15
5|desktop|Firefox|133|Windows|10|1920x1080|1903x955||Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0
5|desktop|Edge|131|Windows|10|1536x864|1519x730||Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0
2|desktop|Firefox|133|Linux||2560x1440|2543x1301||Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0
20|mobile|Mobile Safari|18.1|iOS|18.1|390x844|390x664||Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1
15|mobile|Chrome|131|Android|14|412x915|412x780||Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36
3|mobile|Samsung Browser|26|Android|14|384x832|384x705||Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36
3|tablet|Mobile Safari|18.1|iOS|18.1|820x1180|820x1106||Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1
1|tablet|Chrome|131|Android|14|800x1280|800x1180||Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
1|other|Chrome|131|Chrome OS|16093|1366x768|1366x657||Mozilla/5.0 (X11; CrOS x86_64 16093.68.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
5|bot|Googlebot||||||ua_crawler|Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)
2|bot|Bingbot||||||cf_verified_bot|Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)
2|bot|Chrome Headless||||||headless|Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36
1|bot|Chrome||||||datacenter_asn|Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
1|bot|||||||no_user_agent|
`);

/** Places, one a line: weight | country | region | city | continent | time zone | language. */
const PLACES = table(`
7|US|California|San Francisco|NA|America/Los_Angeles|en-US
5|US|California|Los Angeles|NA|America/Los_Angeles|en-US
8|US|New York|New York|NA|America/New_York|en-US
4|US|Texas|Austin|NA|America/Chicago|en-US
3|US|Washington|Seattle|NA|America/Los_Angeles|en-US
3|US|Illinois|Chicago|NA|America/Chicago|en-US
7|GB|England|London|EU|Europe/London|en-GB
2|GB|England|Manchester|EU|Europe/London|en-GB
5|DE|Berlin|Berlin|EU|Europe/Berlin|de-DE
3|DE|Bavaria|Munich|EU|Europe/Berlin|de-DE
5|FR|Île-de-France|Paris|EU|Europe/Paris|fr-FR
3|NL|North Holland|Amsterdam|EU|Europe/Amsterdam|nl-NL
2|ES|Madrid|Madrid|EU|Europe/Madrid|es-ES
2|IT|Lombardy|Milan|EU|Europe/Rome|it-IT
1|SE|Stockholm|Stockholm|EU|Europe/Stockholm|sv-SE
2|PL|Mazovia|Warsaw|EU|Europe/Warsaw|pl-PL
6|IN|Karnataka|Bengaluru|AS|Asia/Kolkata|en-IN
3|IN|Maharashtra|Mumbai|AS|Asia/Kolkata|en-IN
3|JP|Tokyo|Tokyo|AS|Asia/Tokyo|ja-JP
1|SG|Singapore|Singapore|AS|Asia/Singapore|en-SG
1|CN|Shanghai|Shanghai|AS|Asia/Shanghai|zh-CN
3|BR|São Paulo|São Paulo|SA|America/Sao_Paulo|pt-BR
3|CA|Ontario|Toronto|NA|America/Toronto|en-CA
2|AU|New South Wales|Sydney|OC|Australia/Sydney|en-AU
1|MX|Mexico City|Mexico City|NA|America/Mexico_City|es-MX
1|NG|Lagos|Lagos|AF|Africa/Lagos|en-NG
`);

/** `|`-separated lines → columns (each a list), and the first column as numeric weights. */
function table(text: string): { weights: number[]; columns: string[][] } {
  const rows = text
    .trim()
    .split("\n")
    .map((line) => line.split("|"));
  const width = Math.max(...rows.map((r) => r.length));
  return {
    weights: rows.map((r) => Number(r[0])),
    columns: Array.from({ length: width - 1 }, (_, c) => rows.map((r) => r[c + 1] ?? "")),
  };
}
const RESIDENTIAL_ASNS = [7922, 701, 3320, 2856, 3215, 6830, 3352, 9121, 24560, 4713, 28573, 7545];
const DATACENTER_ASNS = [16509, 15169, 8075, 14061, 24940, 16276];

/**
 * How a session arrives, one a line: weight | entry page's referrer | utm_source | utm_medium |
 * campaigns (comma-separated, one drawn per session) | utm_content | click id parameter. Source and
 * channel are derived by the edge's own classifier (core/enrich/referrer.ts).
 */
const ARRIVALS = table(`
33||||||
27|https://www.google.com/|||||
4|https://www.bing.com/|||||
2|https://duckduckgo.com/|||||
1|https://www.ecosia.org/|||||
5|https://www.google.com/|google|cpc|brand,analytics-generic,ga4-alternative,privacy-analytics||gclid
4|https://t.co/|||||
3|https://m.facebook.com/|||||
2|https://m.facebook.com/|facebook|paid_social|retargeting-q4,lookalike-devs||fbclid
2|https://www.linkedin.com/|||||
2|https://www.reddit.com/|||||
3|https://news.ycombinator.com/|||||
2|https://chatgpt.com/|||||
1|https://www.perplexity.ai/|||||
4||newsletter|email|weekly-digest,product-update,black-friday,onboarding-day-3|header|
3|https://github.com/|||||
1|https://dev.to/|||||
1|https://www.youtube.com/|||||
1|https://partner-blog.example.net/|partner-blog|affiliate|partner-2026||
`);

/**
 * Event kinds, one a line: weight among a session's later events (its first is a pageview) |
 * name | interactive | page ('' = any) | prop key | prop values (comma-separated) | metric | metric max.
 */
const EVENT_KINDS = table(`
820|pageview|1||||
80|engagement|0||||engaged_ms|120000
40|download|1|/download|file|tally-1.4.0.dmg,tally-1.4.0.exe,tally-1.4.0.tar.gz,whitepaper.pdf||
35|outbound_click|1||url|https://github.com/tally,https://twitter.com/tally,https://partner.example||
18|signup|1|/signup|plan|free,pro,team||
7|purchase|1|/pricing|plan|pro,team,enterprise|revenue|499
`);

/** Relative traffic per UTC hour: low at night, a plateau through the working day. */
const HOUR_WEIGHTS = [2, 1.5, 1, 0.8, 0.8, 1, 2, 3.5, 5, 6, 6.5, 6.5, 6.5, 6.5, 6.5, 6, 6, 6, 6, 6.5, 6.5, 5.5, 4.5, 3];

export function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  const out = weights.map((w) => {
    acc += w;
    return acc / total;
  });
  // Exactly 1 at the end, so every draw in [0, 1) finds an index.
  out[out.length - 1] = 1;
  return out;
}

/** Weekends at 70% of weekdays, and 10% growth over the period. */
export function dayWeights(from: number, days: number): number[] {
  return Array.from({ length: days }, (_, d) => {
    const weekday = new Date(from + d * DAY_MS).getUTCDay();
    return (weekday === 0 || weekday === 6 ? 0.7 : 1) * (1 + (0.1 * d) / days);
  });
}

/** `{prefix_name: column}` for each named column of a table. */
function columns(prefix: string, names: string[], t: { columns: string[][] }): Record<string, string[]> {
  return Object.fromEntries(names.map((name, i) => [`${prefix}_${name}`, t.columns[i] ?? []]));
}

/** Every table as query parameters: string columns, and numeric ones with their ClickHouse types. */
export function tables() {
  const [referrers = [], utmSources = [], utmMediums = [], , , clickIds = []] = ARRIVALS.columns;
  const classified = referrers.map((referrer, i) =>
    classifyReferrer({
      referrer,
      pageHost: "www.example.com",
      utmSource: utmSources[i] ?? "",
      utmMedium: utmMediums[i] ?? "",
      clickIdType: clickIds[i] ?? "",
    }),
  );
  const isBot = (i: number) => PROFILES.columns[0]?.[i] === "bot";
  const strings: Record<string, string[]> = {
    paths: pagePaths(),
    ...columns(
      "p",
      ["device", "browser", "browser_version", "os", "os_version", "screen", "viewport", "bot_reason", "ua"],
      PROFILES,
    ),
    ...columns("g", ["country", "region", "city", "continent", "tz", "language"], PLACES),
    ...columns("a", ["referrer", "utm_source", "utm_medium", "campaigns", "utm_content", "click_id"], ARRIVALS),
    a_referrer_host: classified.map((c) => c.referrer_host),
    a_source: classified.map((c) => c.source),
    a_channel: classified.map((c) => c.channel),
    ...columns(
      "e",
      ["name", "interactive", "page", "prop_key", "prop_values", "metric_key", "metric_max"],
      EVENT_KINDS,
    ),
  };
  const numbers: Record<string, [string, number[]]> = {
    p_human_cum: ["Array(Float64)", cumulative(PROFILES.weights.map((w, i) => (isBot(i) ? 0 : w)))],
    p_bot_cum: ["Array(Float64)", cumulative(PROFILES.weights.map((w, i) => (isBot(i) ? w : 0)))],
    g_cum: ["Array(Float64)", cumulative(PLACES.weights)],
    a_cum: ["Array(Float64)", cumulative(ARRIVALS.weights)],
    e_cum: ["Array(Float64)", cumulative(EVENT_KINDS.weights)],
    hour_cum: ["Array(Float64)", cumulative(HOUR_WEIGHTS)],
    asn_home: ["Array(UInt32)", RESIDENTIAL_ASNS],
    asn_dc: ["Array(UInt32)", DATACENTER_ASNS],
  };
  // Constants of this file, so they go into the SQL text as literals (as query parameters they would
  // make a URL of ~20 KB, and the client sends only SELECTs' parameters in the body).
  const quote = (v: string) => `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  return {
    ...Object.fromEntries(Object.entries(strings).map(([k, v]) => [k, `[${v.map(quote).join(", ")}]`])),
    ...Object.fromEntries(Object.entries(numbers).map(([k, [type, v]]) => [k, `CAST([${v.join(", ")}], '${type}')`])),
  };
}
export type Tables = ReturnType<typeof tables>;
