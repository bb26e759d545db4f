/**
 * Umami's `POST /api/send` (umami src/app/api/send/route.ts) mapped to our event schema.
 * `website` is our property_id (Umami's ids are UUIDs, which our id format admits).
 */
import { z } from "zod";
import { httpOrUndefined, nonEmpty, splitProps } from "./shared.ts";

export const UmamiBodySchema = z.object({
  type: z.enum(["event", "identify"]),
  payload: z.object({
    website: z.string().min(1).max(64),
    hostname: z.string().max(100).optional(),
    url: z.string().max(2000).optional(),
    referrer: z.string().max(2000).optional(),
    title: z.string().max(500).optional(),
    screen: z.string().max(11).optional(),
    language: z.string().max(35).optional(),
    name: z.string().max(50).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    tag: z.string().max(50).optional(),
    id: z.string().max(50).optional(),
    timestamp: z.number().int().positive().optional(),
  }),
});
export type UmamiBody = z.infer<typeof UmamiBodySchema>;

/** Umami sends the path in `url` and the host apart; we keep one absolute URL. */
function absoluteUrl(hostname: string | undefined, url: string | undefined): string {
  if (url && URL.canParse(url)) return url;
  return `https://${hostname ?? ""}${url?.startsWith("/") ? url : `/${url ?? ""}`}`;
}

export function mapUmami(body: UmamiBody): Record<string, unknown> {
  const p = body.payload;
  const { dimensions, metrics } = splitProps(p.data);
  if (p.tag) dimensions.umami_tag = p.tag;
  return {
    property_id: p.website,
    user_id: p.id || undefined,
    event_type: p.name ?? "pageview",
    event_timestamp: p.timestamp,
    page_url: absoluteUrl(p.hostname, p.url),
    page_title: p.title || undefined,
    referrer: httpOrUndefined(p.referrer),
    screen_resolution: p.screen && /^\d{1,5}x\d{1,5}$/.test(p.screen) ? p.screen : undefined,
    language: p.language && /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}$/.test(p.language) ? p.language : undefined,
    custom_dimensions: nonEmpty(dimensions),
    custom_metrics: nonEmpty(metrics),
  };
}
