/**
 * A deterministic, realistic dataset for query tests: visitors with several visits of several
 * events (pages, custom events, props, bots, late events), passed through the real session reducer
 * in consumer-sized batches, so `events` and `session_log` hold exactly what the pipeline writes.
 */
import type { EventRow, SessionLogRow } from "../../core/clickhouse-row.ts";
import type { Event } from "../../core/event.ts";
import { replayChunk, type VisitorStates } from "../../core/replay.ts";
import { makeEvent } from "./events.ts";

export { prng } from "../../core/prng.ts";

import { prng } from "../../core/prng.ts";

const PAGES = ["/", "/pricing", "/blog/launch", "/blog/v1.0-notes", "/docs/start", "/docs/api", "/signup", "/about"];
const SOURCES: [string, string, Event["channel"]][] = [
  ["", "", "Direct"],
  ["google.com", "Google", "Organic Search"],
  ["news.ycombinator.com", "Hacker News", "Referral"],
  ["t.co", "Twitter", "Organic Social"],
];
const DEVICES: [Event["device_type"], string, string][] = [
  ["desktop", "Chrome", "Windows"],
  ["mobile", "Safari", "iOS"],
  ["mobile", "Chrome", "Android"],
  ["tablet", "Safari", "iPadOS"],
];
const COUNTRIES: [string, string, string][] = [
  ["DE", "Berlin", "Berlin"],
  ["US", "California", "San Francisco"],
  ["FR", "Île-de-France", "Paris"],
  ["JP", "Tokyo", "Tokyo"],
];

export interface Dataset {
  events: EventRow[];
  sessionLog: SessionLogRow[];
}

export function generateDataset(opts: {
  property_id: string;
  start: number;
  days: number;
  visitors: number;
  seed: number;
}): Dataset {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const raw: Event[] = [];
  for (let v = 0; v < opts.visitors; v++) {
    const [device_type, browser, os] = pick(DEVICES);
    const [country, region, city] = pick(COUNTRIES);
    const is_bot = rnd() < 0.05;
    const visits = 1 + Math.floor(rnd() * 3);
    for (let s = 0; s < visits; s++) {
      let t = opts.start + Math.floor(rnd() * opts.days * 86_400_000);
      const [referrer_host, source, channel] = pick(SOURCES);
      const campaign = rnd() < 0.2 ? "autumn" : "";
      const n = 1 + Math.floor(rnd() * 5);
      for (let e = 0; e < n; e++) {
        const custom = e > 0 && rnd() < 0.25;
        const page = pick(PAGES);
        raw.push(
          makeEvent({
            property_id: opts.property_id,
            client_id: `v${v}`,
            event_id: `${opts.property_id}-v${v}-s${s}-e${e}`,
            event_type: custom ? "signup" : "pageview",
            event_timestamp: t,
            page_url: `https://example.com${page}`,
            page_path: page,
            ...(custom ? { custom_dimensions: { plan: pick(["free", "pro"]) }, interactive: true } : {}),
            device_type,
            browser,
            os,
            country,
            region,
            city,
            is_bot,
            ...(e === 0 ? { referrer_host, source, channel, utm_campaign: campaign } : { channel: "Direct" }),
          }),
        );
        t += Math.floor(rnd() * 8 * 60_000);
      }
    }
  }
  raw.sort((a, b) => a.event_timestamp - b.event_timestamp);
  return replay(raw);
}

/** Runs events through the replay step in batches of 40, as the consumer would batch them. */
export function replay(events: readonly Event[]): Dataset {
  const states: VisitorStates = new Map();
  const out: Dataset = { events: [], sessionLog: [] };
  for (let i = 0; i < events.length; i += 40) {
    const rows = replayChunk(events.slice(i, i + 40), states);
    out.events.push(...rows.events);
    out.sessionLog.push(...rows.sessionLog);
  }
  return out;
}
