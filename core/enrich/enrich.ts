/**
 * Assembles an accepted event: the client's fields plus everything the edge knows. Pure: the
 * shell gathers the request's facts (`EdgeFacts`) and the visitor id, this function decides.
 */
import type { Event, EventInput } from "../event.ts";
import { classifyBot } from "./bot.ts";
import { parsePage } from "./page.ts";
import { type IpMode, privatePageUrl, privateReferrer, truncateIp } from "./privacy.ts";
import { classifyReferrer } from "./referrer.ts";
import { type ClientHints, parseUserAgent } from "./user-agent.ts";

/** Geography as Cloudflare's `request.cf` (or, for import only, the body) gives it. */
export interface Geo {
  country: string;
  region: string;
  city: string;
  continent: string;
  timezone: string;
  asn: number;
}

export const NO_GEO: Geo = { country: "", region: "", city: "", continent: "", timezone: "", asn: 0 };

/** What the request says about the visitor, gathered once per request by the shell. */
export interface EdgeFacts {
  ip: string;
  userAgent: string;
  hints: ClientHints;
  geo: Geo;
  botScore?: number;
  verifiedBot?: boolean;
}

/** The property settings enrichment depends on. */
export interface EnrichPolicy {
  ipMode: IpMode;
  domains: readonly string[];
  hashRouting?: boolean;
  /** The property's own page-URL query parameters to keep (`privacy.query_params`), beside utm_* and click ids. */
  queryParams?: readonly string[];
  /**
   * Epoch ms before which an event's raw user agent is not stored (now − RAW_USER_AGENT_DAYS):
   * imported or late history arrives with only the parsed fields, as older data holds them.
   */
  rawUserAgentSince?: number;
}

/**
 * Events that measure a visit rather than act in it: the tracker's engagement ping (time, scroll
 * depth) and GA4's `user_engagement`. They never turn a bounce into a non-bounce.
 */
export const NON_INTERACTIVE_EVENT_TYPES: ReadonlySet<string> = new Set(["engagement", "user_engagement"]);

export interface EnrichArgs {
  input: EventInput;
  event_id: string;
  event_timestamp: number;
  facts: EdgeFacts;
  policy: EnrichPolicy;
  visitorId: string;
  visitorIdSource: "client" | "cookieless";
  sourceProtocol: Event["source_protocol"];
  interactive?: boolean;
  eventsThisMinute?: number;
  /** Imported history: no request facts apply, and a missing user agent is not a bot signal. */
  imported?: boolean;
}

/** Builds the accepted event; the event's own `user_agent` wins over the request header. */
export function enrichEvent(a: EnrichArgs): Event {
  const userAgent = a.input.user_agent ?? a.facts.userAgent;
  const ua = parseUserAgent(userAgent, a.input.user_agent ? {} : a.facts.hints);
  const pageUrl = privatePageUrl(a.input.page_url, a.policy.queryParams, a.policy.hashRouting);
  const referrer = a.input.referrer ? privateReferrer(a.input.referrer) : a.input.referrer;
  const page = parsePage(pageUrl, a.policy.hashRouting);
  const ref = classifyReferrer({
    referrer,
    pageHost: page.page_host,
    siteDomains: a.policy.domains,
    utmSource: page.utm_source,
    utmMedium: page.utm_medium,
    clickIdType: page.click_id_type,
  });
  const bot = classifyBot({
    userAgent,
    asn: a.facts.geo.asn || undefined,
    botScore: a.facts.botScore,
    verifiedBot: a.facts.verifiedBot,
    eventsThisMinute: a.eventsThisMinute,
    userAgentExpected: !a.imported,
  });
  const input = a.input;
  const geo = a.facts.geo;
  // Every field written out, in one literal: V8 gives the object one fixed shape, which the
  // queue's JSON.stringify and every later reader walk several times faster than an object
  // assembled from spreads (the ingest bench's profile). The check below makes a field the
  // schema gains and this literal lacks a compile error rather than a silently dropped value.
  const event = {
    property_id: input.property_id,
    user_id: input.user_id,
    event_type: input.event_type,
    page_url: pageUrl,
    page_title: input.page_title,
    referrer,
    user_agent: a.event_timestamp < (a.policy.rawUserAgentSince ?? 0) ? undefined : userAgent || undefined,
    screen_resolution: input.screen_resolution,
    viewport_size: input.viewport_size,
    language: input.language,
    custom_dimensions: input.custom_dimensions,
    custom_metrics: input.custom_metrics,
    client_id: a.visitorId,
    event_id: a.event_id,
    event_timestamp: a.event_timestamp,
    visitor_id_source: a.visitorIdSource,
    source_protocol: a.sourceProtocol,
    interactive: a.interactive ?? !NON_INTERACTIVE_EVENT_TYPES.has(input.event_type),
    browser: ua.browser,
    browser_version: ua.browser_version,
    os: ua.os,
    os_version: ua.os_version,
    device_type: bot.is_bot ? "bot" : ua.device_type,
    country: geo.country,
    region: geo.region,
    city: geo.city,
    continent: geo.continent,
    geo_timezone: geo.timezone,
    asn: geo.asn,
    page_host: page.page_host,
    page_path: page.page_path,
    utm_source: page.utm_source,
    utm_medium: page.utm_medium,
    utm_campaign: page.utm_campaign,
    utm_term: page.utm_term,
    utm_content: page.utm_content,
    click_id_type: page.click_id_type,
    referrer_host: ref.referrer_host,
    source: ref.source,
    channel: ref.channel,
    ip_prefix: truncateIp(a.facts.ip, a.policy.ipMode),
    is_bot: bot.is_bot,
    bot_reason: bot.bot_reason,
  } satisfies Record<keyof Event, unknown>;
  return event;
}
