/**
 * The Tally tracker, served at /t.js (README "Tracker" lists its data-* options):
 *   <script defer src="https://…/t.js" data-property="UA-…"></script>
 * Pageviews on load and on SPA navigation, custom events `tally(name, props)` (calls made before it
 * loads wait in the snippet's queue), outbound-link and file-download clicks, engagement time and
 * scroll depth on leaving a page. Events are batched (≤ 20, /collect's limit) and retried with
 * their client `event_id`s, so a retry is never counted twice.
 *
 * Written for size (budget 1.5 KB gzipped, test/build/tracker-size.test.ts): browser globals are
 * used directly, and the testable parts live in events.ts.
 */
import type { EventInput } from "../../core/event.ts";
import {
  BATCH_DELAY_MS,
  buildEvent,
  CLIENT_ID_KEY,
  DOWNLOADS,
  excludeRegex,
  httpReferrer,
  isLocalHost,
  linkEvent,
  MAX_EVENTS_PER_REQUEST,
  MAX_RETRIES,
  MAX_TITLE_LENGTH,
  MAX_URL_LENGTH,
  type Page,
  type Props,
  randomId,
} from "./events.ts";

declare global {
  interface Window {
    /** Before the tracker loads, the snippet's stub, whose `q` holds the calls made so far. */
    tally?: ((name: string, props?: Props) => void) & { q?: ArrayLike<unknown>[] };
  }
  interface Navigator {
    globalPrivacyControl?: boolean;
  }
}

const script = document.currentScript as HTMLScriptElement;
const options = script?.dataset || {};
const property = options.property as string;
const queued = window.tally?.q || [];
// Until (and unless) the tracker runs, calls are ignored, never errors.
window.tally = () => {};

if (
  property &&
  !(isLocalHost(location.hostname) && !("localhost" in options)) &&
  !(navigator.webdriver && !("automation" in options)) &&
  !("dnt" in options && (navigator.doNotTrack === "1" || navigator.globalPrivacyControl))
) {
  // Next to the script by default, so a site that proxies /stats/t.js also proxies /stats/collect.
  const endpoint = options.api ? `${options.api}/collect` : script.src.replace(/[^/]*$/, "collect");
  const excluded = excludeRegex(options.exclude);
  const outbound = "outbound" in options;
  const downloads = "downloads" in options ? DOWNLOADS : undefined;
  const hashRouting = "hash" in options;
  let clientId: string | undefined;
  if (!("cookieless" in options))
    try {
      clientId = localStorage[CLIENT_ID_KEY] ||= randomId();
    } catch {
      // Storage blocked: without a client_id the edge uses its cookieless id.
    }

  const path = () => location.pathname + (hashRouting ? location.hash : "");
  // Where the visit came from, on every event of the page load (SPA pageviews too, as Plausible does).
  const referrer = httpReferrer(document.referrer);
  const page = (): Page => ({
    property_id: property,
    client_id: clientId,
    page_url: location.href.slice(0, MAX_URL_LENGTH),
    page_title: document.title.slice(0, MAX_TITLE_LENGTH),
    referrer,
    screen_resolution: `${screen.width}x${screen.height}`,
    viewport_size: `${innerWidth}x${innerHeight}`,
    language: navigator.language,
  });

  let queue: EventInput[] = [];
  let failures = 0;

  /** Queues one event for the current page (or `at`, the page just left), unless its path is excluded. */
  function send(type: string, props?: Props, at = page(), atPath = path()): void {
    if (excluded.test(atPath)) return;
    // The first event of a batch sets its timer (a flush before then leaves the timer little to do);
    // a burst is cut into requests of 20 by flush.
    if (queue.push(buildEvent(type, at, props)) === 1) setTimeout(flush, BATCH_DELAY_MS);
  }

  /** A failed batch goes back in line with the same event_ids, which /collect counts once. */
  function retry(batch: EventInput[]): void {
    if (++failures > MAX_RETRIES) return;
    queue = batch.concat(queue);
    setTimeout(flush, 1000 << failures);
  }

  /**
   * Sends everything queued, ≤ 20 events a request. `keepalive` lets a request outlive the page,
   * which a send on `pagehide` needs (as sendBeacon does, but with an answer to act on). A string
   * body is text/plain: a simple request, no CORS preflight. A refused origin gets no CORS headers,
   * so it fails like the network does; both, and 5xx, are retried. A 429 is not: the limit is per
   * minute (Retry-After: 60), longer than a visit can be expected to wait.
   */
  function flush(): void {
    while (queue.length) {
      const batch = queue.splice(0, MAX_EVENTS_PER_REQUEST);
      fetch(endpoint, { method: "POST", body: JSON.stringify(batch), keepalive: true }).then(
        (res) => {
          if (res.status > 499) retry(batch);
          else failures = 0;
        },
        () => retry(batch),
      );
    }
  }

  // Engagement on the page last viewed: visible time since the last report, deepest scroll seen.
  let engaged = 0;
  let visibleSince = 0;
  let depth = 0;
  let lastPath: string | undefined;
  let lastPage: Page | undefined;
  const measure = () => {
    const seen = Math.min(1, (scrollY + innerHeight) / document.documentElement.scrollHeight);
    if (seen > depth) depth = seen;
  };
  /**
   * Runs on every visibility change (and pagehide): adds the visible time since the last call, then
   * reports engagement with the page last viewed under its own URL (an SPA navigation has moved on).
   */
  function engagement(): void {
    const now = Date.now();
    if (visibleSince) engaged += now - visibleSince;
    visibleSince = document.hidden ? 0 : now;
    // Time is only counted from the first pageview on, which sets lastPage.
    if (engaged)
      send("engagement", { engagement_ms: engaged, scroll_depth: Math.round(depth * 100) }, lastPage, lastPath);
    engaged = 0;
  }

  function pageview(): void {
    if (path() === lastPath) return;
    engagement();
    lastPath = path();
    lastPage = page();
    depth = 0;
    measure();
    send("pageview", undefined, lastPage);
  }

  for (const method of ["pushState", "replaceState"] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History["pushState"]>) {
      original.apply(this, args);
      pageview();
    };
  }
  addEventListener("popstate", pageview);
  // Without hash routing the path ignores the hash, so a hash change is no new page.
  addEventListener("hashchange", pageview);
  addEventListener("scroll", measure);
  const leave = () => {
    engagement();
    flush();
  };
  // Hidden: report and send. Visible again: the same call restarts the clock and finds nothing to send.
  addEventListener("visibilitychange", leave);
  // Unloading fires pagehide while the page is still visible, then visibilitychange: stop the clock
  // here, or that second event would report the milliseconds in between.
  addEventListener("pagehide", () => {
    leave();
    visibleSince = 0;
  });

  /** Left and middle clicks on links (auxclick's button 2 is the right one); the page may unload next, so the event leaves at once. */
  const click = (e: MouseEvent) => {
    const link = (e.target as Element).closest?.("a") as HTMLAnchorElement | null;
    const type = link && e.button < 2 && linkEvent(link, location.host, outbound, downloads);
    if (!type) return;
    send(type, { url: link.href.slice(0, MAX_TITLE_LENGTH) });
    flush();
  };
  addEventListener("click", click, true);
  addEventListener("auxclick", click, true);

  pageview();
  window.tally = send;
  for (const args of queued) send(args[0] as string, args[1] as Props | undefined);
}
