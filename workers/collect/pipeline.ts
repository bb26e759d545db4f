/**
 * The one ingestion pipeline behind /collect, the drop-in protocols and import:
 * judged candidates ─► property (404) ─► origin (403) ─► DNT ─► rate limits (429) ─► visitor id
 * ─► enrichment ─► queue. Each event succeeds or fails on its own; the caller shapes the answer.
 */

import { type EdgeFacts, enrichEvent, type Geo, NO_GEO } from "../../core/enrich/enrich.ts";
import { asksNotToTrack, cookielessVisitorId } from "../../core/enrich/privacy.ts";
import type { Event } from "../../core/event.ts";
import type { Candidate } from "../../core/ingest/collect-batch.ts";
import type { FieldIssue } from "../../core/issues.ts";
import { originAllowed, type PropertyConfig } from "../../core/property/property.ts";
import { DAY_MS } from "../../core/time.ts";
import { loadConfig } from "../../platform/config.ts";
import { cachedPropertyConfig, propertyConfig } from "../../platform/properties.ts";
import { dailySalt } from "../../platform/salts.ts";
import { type LookupGuard, lookupGuard } from "../../platform/throttle.ts";
import { edgeFacts } from "./edge-facts.ts";
import { countAccepted, countRefused } from "./metrics.ts";
import { enqueueEvents } from "./queue.ts";
import { enforceRateLimits } from "./rate-limit.ts";
import { countRefusal } from "./refusals.ts";
import { countVisitorEvents } from "./velocity.ts";

export interface Rejection {
  index: number;
  code: string;
  issues: FieldIssue[];
}

export interface PipelineResult {
  /** Per input index: the event id when accepted (or knowingly not tracked), null when rejected. */
  eventIds: (string | null)[];
  rejections: Rejection[];
  accepted: Event[];
  /** Events not recorded because the visitor asked not to be tracked (DNT/GPC) and the property honours it. */
  notTracked: number;
}

export interface PipelineOptions {
  sourceProtocol: Event["source_protocol"];
  /** Plausible's `i: false`: this event does not end a bounce. */
  interactive?: (index: number) => boolean;
  /** Import only: geography carried in the body. */
  geo?: (index: number) => Geo | undefined;
  /**
   * Import: a server uploading history. The request's IP, user agent, geography, Origin and DNT
   * say nothing about the visitors, and public rate limits do not apply.
   */
  imported?: boolean;
  /** Plausible's `h: 1`: keep `#/route` in the path for this event. */
  hashRouting?: (index: number) => boolean;
}

async function configs(
  env: Env,
  ids: Iterable<string>,
  guard: LookupGuard | undefined,
): Promise<Map<string, PropertyConfig | undefined>> {
  const unique = [...new Set(ids)];
  const cached = unique.map((id) => cachedPropertyConfig(id));
  // The hot path: every configuration cached, no promise at all; else only the missing are looked up.
  const found = cached.includes(null)
    ? await Promise.all(unique.map((id, i) => (cached[i] === null ? propertyConfig(env, id, guard) : cached[i])))
    : cached;
  return new Map(unique.map((id, i) => [id, found[i] ?? undefined]));
}

type Visitor = { id: string; source: "client" | "cookieless" };

/** The first-party id when allowed, else the cookieless one (a promise only then, keeping the common path cheap). */
function visitorId(
  env: Env,
  input: { client_id?: string; property_id: string },
  config: PropertyConfig,
  facts: EdgeFacts,
  userAgent: string,
): Visitor | Promise<Visitor> {
  if (input.client_id && !config.privacy.cookieless_only) return { id: input.client_id, source: "client" };
  return cookielessVisitor(env, input.property_id, facts.ip, userAgent);
}

async function cookielessVisitor(env: Env, propertyId: string, ip: string, userAgent: string): Promise<Visitor> {
  const salt = await dailySalt(env);
  return { id: await cookielessVisitorId(salt, propertyId, ip, userAgent), source: "cookieless" };
}

type Admitted = Extract<Candidate, { ok: true }> & { config: PropertyConfig };

/** Property (404), origin (403) and DNT: what may enter, recorded on `result` for what may not. */
async function admit(
  env: Env,
  request: Request,
  candidates: readonly Candidate[],
  options: PipelineOptions,
  result: PipelineResult,
): Promise<Admitted[]> {
  const origin = options.imported ? null : request.headers.get("origin");
  const ok = candidates.filter((c) => c.ok);
  for (const c of candidates) if (!c.ok) result.rejections.push({ index: c.index, code: c.code, issues: c.issues });
  // Public senders name properties without credentials: their lookups are limited per address.
  const guard = options.imported ? undefined : lookupGuard(env, request);
  const byId = await configs(
    env,
    ok.map((c) => c.input.property_id),
    guard,
  );
  const admitted: Admitted[] = [];
  for (const c of ok) {
    const config = byId.get(c.input.property_id);
    const path = `events[${c.index}].property_id`;
    if (!config || config.disabled) {
      countRefusal(undefined, "unknown_property");
      const message = `property ${c.input.property_id} does not exist or is disabled`;
      result.rejections.push({ index: c.index, code: "property_not_found", issues: [{ path, message }] });
    } else if (origin && !originAllowed(origin, config.domains)) {
      countRefusal(config.property_id, "origin_not_allowed");
      const message = `origin ${origin} is not one of the property's domains`;
      result.rejections.push({ index: c.index, code: "origin_not_allowed", issues: [{ path, message }] });
    } else if (!options.imported && config.privacy.respect_dnt && asksNotToTrack(request.headers)) {
      result.eventIds[c.index] = c.event_id;
      result.notTracked++;
    } else admitted.push({ ...c, config });
  }
  return admitted;
}

/** Visitor id and enrichment of one admitted event. */
async function enrich(env: Env, a: Admitted, facts: EdgeFacts, options: PipelineOptions): Promise<Event> {
  const userAgent = a.input.user_agent ?? facts.userAgent;
  const found = visitorId(env, a.input, a.config, facts, userAgent);
  const visitor = found instanceof Promise ? await found : found;
  const geo = options.geo?.(a.index);
  return enrichEvent({
    input: a.input,
    event_id: a.event_id,
    event_timestamp: a.event_timestamp,
    facts: geo ? { ...facts, geo } : facts,
    policy: {
      ipMode: a.config.privacy.ip_mode,
      domains: a.config.domains,
      hashRouting: options.hashRouting?.(a.index) ?? a.config.hash_routing,
      queryParams: a.config.privacy.query_params,
      // An imported event older than the raw-UA period arrives with only the parsed fields kept.
      rawUserAgentSince: Date.now() - loadConfig(env).RAW_USER_AGENT_DAYS * DAY_MS,
    },
    visitorId: visitor.id,
    visitorIdSource: visitor.source,
    sourceProtocol: options.sourceProtocol,
    interactive: options.interactive?.(a.index),
    eventsThisMinute: options.imported ? 0 : countVisitorEvents(`${a.config.property_id}|${visitor.id}`, 1),
    imported: options.imported,
  });
}

/** The Cloudflare location serving the request (placeholder-free under `wrangler dev`: "local"). */
function colo(request: Request): string {
  const value = (request as { cf?: { colo?: unknown } }).cf?.colo;
  return typeof value === "string" && value !== "" ? value : "local";
}

/** Runs judged candidates through the pipeline and queues what is accepted. */
export async function runPipeline(
  env: Env,
  request: Request,
  candidates: readonly Candidate[],
  options: PipelineOptions,
): Promise<PipelineResult> {
  const facts: EdgeFacts = options.imported ? { ip: "", userAgent: "", hints: {}, geo: NO_GEO } : edgeFacts(request);
  const result: PipelineResult = { eventIds: candidates.map(() => null), rejections: [], accepted: [], notTracked: 0 };
  const admitted = await admit(env, request, candidates, options, result);
  if (!options.imported) {
    const perProperty = new Map<string, number>();
    for (const a of admitted) perProperty.set(a.config.property_id, (perProperty.get(a.config.property_id) ?? 0) + 1);
    await enforceRateLimits(env, facts.ip, perProperty);
  }
  for (const a of admitted) {
    const event = await enrich(env, a, facts, options);
    result.accepted.push(event);
    result.eventIds[a.index] = event.event_id;
  }
  const location = colo(request);
  if (result.accepted.length > 0)
    await enqueueEvents(env, loadConfig(env).EVENTS_QUEUE_SHARDS, result.accepted, Date.now(), location);
  countAccepted(options.sourceProtocol, result.accepted, location, options.imported ? null : facts.geo.country);
  for (const r of result.rejections) countRefused(r.code);
  result.rejections.sort((x, y) => x.index - y.index);
  return result;
}
