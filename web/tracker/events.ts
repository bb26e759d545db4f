/**
 * The tracker's pure parts: what one event looks like on the wire (core/event.ts `EventInput`),
 * which paths are excluded, which clicks count. No `window` here, so Node unit tests run them as is.
 * Everything is clipped to what /collect accepts, because /collect refuses a whole event for one
 * bad field and a visitor's browser cannot be asked to fix it.
 *
 * NOTE (#6): core/event.ts and core/property/goals.ts build zod schemas at their top level, so importing a
 * value from them bundles zod (~100 KB gzipped) whatever esbuild's tree-shaking does. The few
 * values needed are copied here instead, and test/unit/tracker-events.test.ts asserts each copy
 * equals core's, so they cannot drift apart.
 */
import type { EventInput } from "../../core/event.ts";

/** core/ingest/collect-batch.ts `MAX_EVENTS_PER_REQUEST`: events in one /collect request. */
export const MAX_EVENTS_PER_REQUEST = 20;
/** core/event.ts `MAX_URL_LENGTH`. */
export const MAX_URL_LENGTH = 2048;
/** core/event.ts: `page_title` and each custom dimension are at most this long. */
export const MAX_TITLE_LENGTH = 512;

/** How long an event waits for company before its batch leaves (at once when the page is hidden). */
export const BATCH_DELAY_MS = 500;
/** Consecutive failed sends retried (after 2, 4, 8 s) before a batch is given up. */
export const MAX_RETRIES = 3;
/** localStorage key of the first-party visitor id. */
export const CLIENT_ID_KEY = "tally_id";

/**
 * A path pattern as a regex with core/property/goals.ts `goalPathRegex`'s rules: `**` across segments, `*`
 * within one, everything else literal (escaped one by one: `\~` is `~` in a non-unicode regex).
 */
export const pathRegex = (pattern: string): string =>
  `^${pattern.replace(/[^\w*/-]/g, "\\$&").replace(/\*\*?/g, (m) => (m[1] ? ".*" : "[^/]*"))}$`;

/** A custom event's properties: numbers become `custom_metrics`, anything else `custom_dimensions`. */
export type Props = Record<string, unknown>;

/** Every field of an event but its type, id and properties, as the tracker reads them from the page. */
export type Page = Omit<EventInput, "event_type" | "event_id" | "custom_dimensions" | "custom_metrics">;

/**
 * A fresh id of [0-9a-z] (event ids, client ids), ~52 random bits: unique enough for a visitor id
 * (GA's client id has 31 random bits and a timestamp) and for event ids, which only need to differ
 * among one visitor's recent events. crypto.getRandomValues would cost bytes for no gain here.
 */
export const randomId = (): string => Math.random().toString(36).slice(2);

/** A referrer /collect accepts: an http(s) URL cut to its length; an app's (`android-app://…`) or none is left out. */
export const httpReferrer = (url: string): string | undefined =>
  /^https?:\/\//.test(url) ? url.slice(0, MAX_URL_LENGTH) : undefined;

/**
 * One event as /collect takes it: the page's fields, a fresh `event_id`, and the properties split
 * into metrics (numbers) and dimensions (the rest, as text). Properties are otherwise passed as
 * given: a site's own mistakes there come back in /collect's answer, naming the field.
 */
export function buildEvent(type: string, page: Page, props?: Props): EventInput {
  const event: EventInput = { ...page, event_id: randomId(), event_type: type };
  for (const key in props) {
    const value = props[key];
    if (typeof value === "number") event.custom_metrics = { ...event.custom_metrics, [key]: value };
    else event.custom_dimensions = { ...event.custom_dimensions, [key]: `${value}` };
  }
  return event;
}

/**
 * `data-exclude="/admin/**, /drafts/*"`: one regex for the list. Without a list it is `^$`, which
 * no path matches (a path is at least "/").
 */
export const excludeRegex = (list = ""): RegExp =>
  RegExp(
    list
      .split(",")
      .map((p) => pathRegex(p.trim()))
      .join("|"),
  );

/** Links whose path ends in one of these extensions count as file downloads (`data-downloads`). */
export const DOWNLOADS = /\.(pdf|docx?|xlsx?|pptx?|csv|txt|zip|rar|7z|gz|dmg|exe|msi|apk|mp3|mp4|mov)$/i;

/** Hosts a site runs on during development: not tracked unless `data-localhost`. */
export const isLocalHost = (hostname: string): boolean => /^localhost$|^127\.|^\[::1]$|\.localhost$/.test(hostname);

/**
 * The event a click on a link means: a file download (by extension, on any host) wins over an
 * outbound link (another host); same-site links and links without a host (mailto:, tel:,
 * javascript:) mean nothing.
 */
export function linkEvent(
  link: { host: string; pathname: string },
  pageHost: string,
  outbound: boolean,
  downloads: RegExp | undefined,
): "file_download" | "outbound_link" | undefined {
  if (!link.host) return undefined;
  if (downloads?.test(link.pathname)) return "file_download";
  if (outbound && link.host !== pageHost) return "outbound_link";
  return undefined;
}
