/**
 * URL parsing shared by validation (core/event.ts) and enrichment (core/enrich): an event's page
 * URL and referrer are each checked and then read, and in workerd every parse is a call into the
 * runtime's URL implementation. The last few dozen URLs are kept, so a request's URLs are parsed
 * once. The URL objects are shared: callers only read them. Pure apart from that memo.
 */
const MAX_RECENT = 64;
const recent = new Map<string, URL | null>();

/** `URL.parse(value)`, remembered for the next few calls. */
export function parseUrl(value: string): URL | null {
  const known = recent.get(value);
  if (known !== undefined) return known;
  const url = URL.parse(value);
  // Cleared rather than aged: twenty events of a request are 40 URLs at most.
  if (recent.size >= MAX_RECENT) recent.clear();
  recent.set(value, url);
  return url;
}

/** A query pair's name as URLSearchParams reads it (`+` is a space, percent-escapes decoded). */
function paramName(pair: string): string {
  const eq = pair.indexOf("=");
  const raw = (eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, " ");
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * The URL without credentials, without the query parameters `keep` refuses (the kept pairs stay
 * as written, in order) and without its fragment — or, with `keepFragment` (hash-routed apps),
 * with the fragment's route but not a query inside it (`#/reset?token=…`). A URL with nothing to
 * drop comes back as the very string given; one that does not parse comes back unchanged.
 */
export function stripUrl(value: string, keep: (name: string) => boolean, keepFragment = false): string {
  const url = parseUrl(value);
  if (url === null) return value;
  const q = url.hash.indexOf("?");
  const hash = keepFragment ? (q === -1 ? url.hash : url.hash.slice(0, q)) : "";
  const pairs = url.search.length > 1 ? url.search.slice(1).split("&") : [];
  const kept = pairs.filter((pair) => pair !== "" && keep(paramName(pair)));
  if (kept.length === pairs.length && hash === url.hash && url.username === "" && url.password === "") return value;
  const search = kept.length > 0 ? `?${kept.join("&")}` : "";
  return `${url.protocol}//${url.host}${url.pathname}${search}${hash}`;
}
