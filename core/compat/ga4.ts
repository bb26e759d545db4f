/**
 * The GA4 Measurement Protocol (`POST /mp/collect?measurement_id=…&api_secret=…`) mapped to our
 * event schema, with GA's own limits: ≤ 25 events, ≤ 25 params each, names ≤ 40 characters of
 * [A-Za-z][A-Za-z0-9_]*, string values ≤ 100 characters; `measurement_id` is our property_id.
 */
import { z } from "zod";
import { httpOrUndefined, nonEmpty, splitProps } from "./shared.ts";

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const ParamValue = z.union([
  z.string().max(100, "must be at most 100 characters (GA4 limit)"),
  z.number(),
  z.boolean(),
]);

export const Ga4BodySchema = z.object({
  client_id: z.string().min(1).max(128),
  user_id: z.string().min(1).max(256).optional(),
  timestamp_micros: z.union([z.number().int().positive(), z.string().regex(/^\d{10,17}$/)]).optional(),
  user_properties: z.record(z.string(), z.unknown()).optional(),
  non_personalized_ads: z.boolean().optional(),
  events: z
    .array(
      z.object({
        name: z.string().regex(NAME, "must be 1-40 characters of [A-Za-z][A-Za-z0-9_]* (GA4 limit)"),
        params: z
          .record(z.string().regex(NAME, "param names must be 1-40 characters of [A-Za-z][A-Za-z0-9_]*"), ParamValue)
          .refine((p) => Object.keys(p).length <= 25, "must have at most 25 params (GA4 limit)")
          .optional(),
      }),
    )
    .min(1)
    .max(25, "must have at most 25 events (GA4 limit)"),
});
export type Ga4Body = z.infer<typeof Ga4BodySchema>;

/** Params that map to our own fields rather than custom dimensions. */
const KNOWN = new Set([
  "page_location",
  "page_referrer",
  "page_title",
  "language",
  "screen_resolution",
  "session_id",
  "engagement_time_msec",
]);

/** Maps every GA4 event to our raw event; `fallbackUrl` stands in when an event has no page_location. */
export function mapGa4(body: Ga4Body, propertyId: string, fallbackUrl: string): Record<string, unknown>[] {
  const ts = body.timestamp_micros === undefined ? undefined : Math.floor(Number(body.timestamp_micros) / 1000);
  return body.events.map((e) => {
    const params = e.params ?? {};
    const rest = Object.fromEntries(Object.entries(params).filter(([k]) => !KNOWN.has(k)));
    const { dimensions, metrics } = splitProps(rest);
    if (params.session_id !== undefined) dimensions.ga_session_id = String(params.session_id);
    if (typeof params.engagement_time_msec === "number") metrics.engagement_time_msec = params.engagement_time_msec;
    const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    return {
      property_id: propertyId,
      client_id: body.client_id,
      user_id: body.user_id,
      event_type: e.name === "page_view" ? "pageview" : e.name,
      event_timestamp: ts,
      page_url: str(params.page_location) ?? fallbackUrl,
      page_title: str(params.page_title),
      referrer: httpOrUndefined(params.page_referrer),
      language: str(params.language),
      screen_resolution: str(params.screen_resolution),
      custom_dimensions: nonEmpty(dimensions),
      custom_metrics: nonEmpty(metrics),
    };
  });
}
