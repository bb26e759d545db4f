/**
 * Plausible's `POST /api/event` (plausible/analytics lib/plausible/ingestion/request.ex) mapped to
 * our event schema: short and long keys, props as object or JSON string (≤ 30 scalar values kept),
 * revenue, interactive flag, hash mode, engagement metrics, a comma list of domains fanning out.
 */
import { z } from "zod";
import { httpOrUndefined, nonEmpty, splitProps } from "./shared.ts";

const PropsSchema = z.union([z.record(z.string(), z.unknown()), z.string().max(10_000)]).optional();

export const PlausibleBodySchema = z.object({
  n: z.string().min(1).max(120).optional(),
  name: z.string().min(1).max(120).optional(),
  u: z.string().max(2000).optional(),
  url: z.string().max(2000).optional(),
  d: z.string().max(1000).optional(),
  domain: z.string().max(1000).optional(),
  r: z.string().nullable().optional(),
  referrer: z.string().nullable().optional(),
  p: PropsSchema,
  props: PropsSchema,
  m: PropsSchema,
  meta: PropsSchema,
  $: z.object({ currency: z.string().max(3), amount: z.union([z.number(), z.string().max(32)]) }).optional(),
  revenue: z.object({ currency: z.string().max(3), amount: z.union([z.number(), z.string().max(32)]) }).optional(),
  i: z.boolean().optional(),
  interactive: z.boolean().optional(),
  h: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
  hashMode: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
  sd: z.number().min(0).max(100).optional(),
  e: z.number().min(0).optional(),
});
export type PlausibleBody = z.infer<typeof PlausibleBodySchema>;

export interface MappedPlausible {
  domains: string[];
  /** Our raw event without property_id (one per domain is made from it). */
  event: Record<string, unknown>;
  interactive: boolean;
  hashMode: boolean;
}

function parseProps(value: PlausibleBody["p"]): Record<string, unknown> | undefined {
  if (typeof value !== "string") return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Maps a validated body; the url's host is the domain when `d` is absent, as Plausible does. */
export function mapPlausible(body: PlausibleBody): MappedPlausible {
  const url = body.u ?? body.url ?? "";
  const domainList = body.d ?? body.domain ?? (URL.canParse(url) ? new URL(url).hostname : "");
  const props = parseProps(body.p ?? body.props ?? body.m ?? body.meta);
  const { dimensions, metrics } = splitProps(props, 30);
  const revenue = body.$ ?? body.revenue;
  if (revenue && Number.isFinite(Number(revenue.amount))) {
    metrics.revenue = Number(revenue.amount);
    dimensions.currency = revenue.currency.toUpperCase();
  }
  if (body.sd !== undefined) metrics.scroll_depth = body.sd;
  if (body.e !== undefined) metrics.engaged_ms = body.e;
  return {
    domains: domainList
      .split(",")
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
    event: {
      event_type: body.n ?? body.name ?? "",
      page_url: url,
      referrer: httpOrUndefined(body.r ?? body.referrer),
      custom_dimensions: nonEmpty(dimensions),
      custom_metrics: nonEmpty(metrics),
    },
    interactive: (body.i ?? body.interactive) !== false,
    hashMode: [1, true].includes(body.h ?? body.hashMode ?? 0),
  };
}
