/**
 * The traffic of bench/consumer.ts: enriched events of Zipf-distributed properties in 30-minute
 * sessions, packed into queue messages and consumer batches as the ingest stage (or the edge) packs
 * them, and the shapes Miniflare's queue client hands a consumer.
 */
import type { Event } from "../core/event.ts";
import { MAX_MESSAGE_BYTES, MAX_PACKED_BYTES, packMessages } from "../core/ingest/queue-message.ts";
import { makeEvent } from "../dev/fixtures/events.ts";
import { prng } from "../dev/prng.ts";
import { compressMessage } from "../platform/queue-codec.ts";
import { zipfWeights } from "./cost-model.ts";

/** wrangler.toml `max_batch_size`. */
export const MESSAGES_PER_BATCH = 100;

export const propertyId = (i: number) => `UA-CONS-${i + 1}`;
const COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "NL", "ES"];
/** Browser, version, OS, version, device: the user agents the benches' events carry. */
export const BROWSERS = [
  ["Chrome", "131", "Windows", "10", "desktop"],
  ["Safari", "18", "iOS", "18.1", "mobile"],
  ["Chrome", "131", "Android", "14", "mobile"],
  ["Firefox", "133", "Linux", "", "desktop"],
  ["Edge", "131", "Windows", "11", "desktop"],
] as const;
const REFERRERS = [
  ["", "", "Direct"],
  ["www.google.com", "Google", "Organic Search"],
  ["t.co", "Twitter", "Organic Social"],
  ["news.ycombinator.com", "Hacker News", "Referral"],
] as const;

/**
 * `total` enriched events in arrival order: requests of one visitor's next events (60% 1 event,
 * 30% 2–5, 10% 6–20), ~8 requests per visitor within the last 30 minutes. `tag` makes event and
 * visitor ids the run's own.
 */
export function traffic(properties: number, total: number, tag: string, now: number, seed: number): Event[] {
  const rnd = prng(seed);
  const weights = zipfWeights(properties);
  const cdf: number[] = [];
  weights.reduce((acc, w) => {
    cdf.push(acc + w);
    return acc + w;
  }, 0);
  const clock = new Map<string, number>();
  const events: Event[] = [];
  while (events.length < total) {
    const u = rnd();
    const p = Math.max(
      0,
      cdf.findIndex((c) => c >= u),
    );
    // ~3 events a request on average, ~8 requests a visitor.
    const visitors = Math.max(1, Math.round((total * (weights[p] ?? 0)) / 24));
    const visitor = `${tag}-v${p}-${Math.floor(rnd() * visitors)}`;
    const r = rnd();
    const n = Math.min(
      total - events.length,
      r < 0.6 ? 1 : r < 0.9 ? 2 + Math.floor(rnd() * 4) : 6 + Math.floor(rnd() * 15),
    );
    let t = clock.get(visitor) ?? now - 30 * 60_000 + Math.floor(rnd() * 20 * 60_000);
    const [browser, browserVersion, os, osVersion, device] =
      BROWSERS[Math.floor(rnd() * BROWSERS.length)] ?? BROWSERS[0];
    const [referrerHost, source, channel] = REFERRERS[Math.floor(rnd() * REFERRERS.length)] ?? REFERRERS[0];
    const country = COUNTRIES[Math.floor(rnd() * COUNTRIES.length)] ?? "US";
    for (let i = 0; i < n; i++) {
      t += 1_000 + Math.floor(rnd() * 20_000);
      const path = `/page/${Math.floor(rnd() * 30)}`;
      const host = `site${p}.example`;
      events.push(
        makeEvent({
          property_id: propertyId(p),
          client_id: visitor,
          event_id: `${tag}-${events.length}`,
          event_type: i === 0 || rnd() < 0.7 ? "pageview" : "click",
          event_timestamp: Math.min(t, now),
          page_url: `https://${host}${path}`,
          page_title: `Page ${path}`,
          page_host: host,
          page_path: path,
          referrer: i === 0 && referrerHost ? `https://${referrerHost}/` : "",
          referrer_host: i === 0 ? referrerHost : "",
          source: i === 0 ? source : "",
          channel: i === 0 ? channel : "Direct",
          screen_resolution: "1920x1080",
          viewport_size: "1280x720",
          language: "en-US",
          browser,
          browser_version: browserVersion,
          os,
          os_version: osVersion,
          device_type: device,
          country,
        }),
      );
    }
    clock.set(visitor, t);
  }
  return events;
}

/** A queue message as Miniflare's broker hands it to a consumer (`Fetcher.queue`). */
export interface DeliveredMessage {
  id: string;
  timestamp: Date;
  attempts: number;
  body: string | Uint8Array;
}

export interface QueueOutcome {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean };
  explicitAcks: string[];
  retryMessages: { msgId: string }[];
}

/** The Worker's `queue` handler as Miniflare's client exposes it (workers-types puts `queue` on Fetcher only in its experimental types). */
export interface QueueTarget {
  queue(queueName: string, messages: DeliveredMessage[]): Promise<QueueOutcome>;
}

/**
 * Messages packed as the ingest stage packs them (ZSTD bytes of ≤ MAX_PACKED_BYTES of JSON), or as
 * the edge's own packer does (`text`: ≤ 64 KB of JSON), in consumer batches of MESSAGES_PER_BATCH.
 */
export function batchesOf(events: readonly Event[], tag: string, receivedAt: number, text: boolean) {
  const texts = packMessages(events, receivedAt, text ? MAX_MESSAGE_BYTES : MAX_PACKED_BYTES);
  const messages: DeliveredMessage[] = texts.map((body, i) => ({
    id: `${tag}-m${i}`,
    timestamp: new Date(receivedAt),
    attempts: 1,
    body: text ? body : compressMessage(body),
  }));
  const batches: DeliveredMessage[][] = [];
  for (let i = 0; i < messages.length; i += MESSAGES_PER_BATCH) batches.push(messages.slice(i, i + MESSAGES_PER_BATCH));
  const jsonBytes = texts.reduce((n, t) => n + t.length, 0);
  const bodyBytes = messages.reduce((n, m) => n + (typeof m.body === "string" ? m.body.length : m.body.byteLength), 0);
  return { batches, messages: messages.length, jsonBytes, bodyBytes };
}
