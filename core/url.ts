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
