/**
 * The ingestion routes' pipeline metrics (issue #18): accepted events by route and by location,
 * refusals by reason, bot hits by reason. Label objects are made once per value and reused, so the
 * hot path adds a map update per counter and nothing else.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../core/errors.ts";
import type { Event } from "../../core/event.ts";
import type { Labels } from "../../core/ops/metric-names.ts";
import { countMetric } from "../../platform/ops-metrics.ts";

const MAX_CACHED = 1_000;
const labelCache = new Map<string, Labels>();

/** `{ [key]: value }`, the same object each time (bounded). */
export function labelsOf(key: string, value: string): Labels {
  const id = `${key}\u0000${value}`;
  let labels = labelCache.get(id);
  if (!labels) {
    if (labelCache.size >= MAX_CACHED) labelCache.clear();
    labels = { [key]: value };
    labelCache.set(id, labels);
  }
  return labels;
}

const locationCache = new Map<string, Labels>();

function locationLabels(colo: string, country: string): Labels {
  const id = `${colo}\u0000${country}`;
  let labels = locationCache.get(id);
  if (!labels) {
    if (locationCache.size >= MAX_CACHED) locationCache.clear();
    labels = { colo, country };
    locationCache.set(id, labels);
  }
  return labels;
}

/** Accepted events of one request: by route, by location (not for imports: history has none), and bots. */
export function countAccepted(route: string, accepted: readonly Event[], colo: string, country: string | null): void {
  if (accepted.length === 0) return;
  countMetric("events_accepted", labelsOf("route", route), accepted.length);
  if (country !== null) countMetric("events_by_location", locationLabels(colo, country || "unknown"), accepted.length);
  for (const e of accepted) if (e.is_bot) countMetric("bot_hits", labelsOf("reason", e.bot_reason || "unknown"));
}

/** Events refused for `reason` (an error code). */
export function countRefused(reason: string, n = 1): void {
  countMetric("events_refused", labelsOf("reason", reason), n);
}

/** Events refused by a rate limit of `scope` (ip, property, import). */
export function countRateLimited(scope: string, n: number): void {
  countMetric("events_rate_limited", labelsOf("scope", scope), n);
}

/** Errors whose events were already counted one by one (the pipeline's rejections, rate limits). */
const counted = new WeakSet<AppError>();

/** Marks an error as counted, so the routes' middleware does not count it again. */
export function alreadyCounted(error: AppError): AppError {
  counted.add(error);
  return error;
}

/** `to` (an error rethrown as another) counted as `from` was. */
export function countedAs(from: unknown, to: AppError): AppError {
  if (from instanceof AppError && counted.has(from)) counted.add(to);
  return to;
}

/**
 * Counts a request an ingestion route refused as a whole (bad JSON, a schema failure, a missing
 * header or secret) by its error code; per-event refusals are counted where they are decided.
 */
export const countRefusedRequests: MiddlewareHandler = async function countRefusedRequests(c, next) {
  await next();
  const error = c.error;
  if (error instanceof AppError && error.status >= 400 && error.status < 500 && !counted.has(error))
    countRefused(error.code);
};
