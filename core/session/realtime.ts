/**
 * The realtime snapshot (GET /api/v1/realtime and the WebSocket push), computed from the
 * PropertyDO's minute windows: a pure function of the windows and the clock.
 */
import { z } from "zod";
import { MINUTE_MS } from "../time.ts";
import { HyperLogLog } from "./hll.ts";
import { SpaceSaving } from "./top-k.ts";
import { type MinuteWindow, minuteOf } from "./window.ts";

export const RealtimeSnapshotSchema = z.object({
  property_id: z.string(),
  active_visitors: z.number().int(),
  pageviews_last_30m: z.number().int(),
  visitors_last_30m: z.number().int(),
  pageviews_per_minute: z.array(
    z.object({ minute: z.string(), pageviews: z.number().int(), visitors: z.number().int() }),
  ),
  events_per_second: z.number(),
  top_pages: z.array(z.object({ page: z.string(), pageviews: z.number().int() })),
  top_sources: z.array(z.object({ source: z.string(), visitors: z.number().int() })),
  countries: z.array(z.object({ country: z.string(), visitors: z.number().int() })),
  devices: z.array(z.object({ device: z.string(), visitors: z.number().int() })),
  updated_at: z.string(),
});
export type RealtimeSnapshot = z.infer<typeof RealtimeSnapshotSchema>;

const TOP = 10;

/** Builds the snapshot for `now` from the windows the actor holds (any order, gaps allowed). */
export function realtimeSnapshot(propertyId: string, windows: readonly MinuteWindow[], now: number): RealtimeSnapshot {
  const current = minuteOf(now);
  const within = (minutes: number) =>
    windows.filter((w) => w.minute > current - minutes * MINUTE_MS && w.minute <= current);
  const last30 = within(30);
  const union = (ws: readonly MinuteWindow[]) => ws.reduce((h, w) => h.merge(w.visitors), new HyperLogLog());
  const merged = (pick: (w: MinuteWindow) => SpaceSaving) =>
    last30.reduce((s, w) => s.merge(pick(w)), new SpaceSaving(200));
  const byMinute = new Map(last30.map((w) => [w.minute, w]));
  const lastComplete = windows.find((w) => w.minute === current - MINUTE_MS);
  return {
    property_id: propertyId,
    active_visitors: union(within(5)).count(),
    pageviews_last_30m: last30.reduce((n, w) => n + w.pageviews, 0),
    visitors_last_30m: union(last30).count(),
    pageviews_per_minute: Array.from({ length: 30 }, (_, i) => {
      const minute = current - (29 - i) * MINUTE_MS;
      const w = byMinute.get(minute);
      return {
        minute: new Date(minute).toISOString(),
        pageviews: w?.pageviews ?? 0,
        visitors: w?.visitors.count() ?? 0,
      };
    }),
    events_per_second: Math.round(((lastComplete?.events ?? 0) / 60) * 100) / 100,
    top_pages: merged((w) => w.pages)
      .top(TOP)
      .map((e) => ({ page: e.key, pageviews: e.count })),
    top_sources: merged((w) => w.sources)
      .top(TOP)
      .map((e) => ({ source: e.key, visitors: e.count })),
    countries: merged((w) => w.countries)
      .top(TOP)
      .map((e) => ({ country: e.key, visitors: e.count })),
    devices: merged((w) => w.devices)
      .top(TOP)
      .map((e) => ({ device: e.key, visitors: e.count })),
    updated_at: new Date(now).toISOString(),
  };
}
