/**
 * Auditable bot classification: every hit keeps its `bot_reason` instead of being dropped, so
 * reports exclude bots by default while the traffic stays countable, sampleable and
 * re-classifiable. The rules are data (patterns, ASN list) so queries can re-apply them to stored
 * events (see workers/query/bots.ts).
 */
import { isbot } from "isbot";
import { LruCache } from "./lru.ts";

export const BOT_REASONS = [
  "no_user_agent",
  "cf_verified_bot",
  "headless",
  "ua_crawler",
  "cf_bot_management",
  "datacenter_asn",
  "velocity",
] as const;
export type BotReason = (typeof BOT_REASONS)[number];

/** Headless and automation frameworks (re2-compatible, so ClickHouse `match()` can re-apply it). */
export const HEADLESS_PATTERN =
  "(?i)(headlesschrome|phantomjs|puppeteer|playwright|selenium|webdriver|slimerjs|cypress|electron/[0-9.]+ .*headless)";
const HEADLESS = new RegExp(HEADLESS_PATTERN.replace("(?i)", ""), "i");

/**
 * ASNs of large hosting and cloud networks: people browse from ISPs, not from these. Corporate
 * VPN egress sometimes sits here too, which is why it is a flag with a reason and not a drop.
 */
export const DATACENTER_ASNS: readonly number[] = [
  16509,
  14618,
  8987, // Amazon
  15169,
  396982,
  19527, // Google Cloud
  8075,
  8068, // Microsoft Azure
  14061, // DigitalOcean
  16276, // OVH
  24940,
  213230, // Hetzner
  63949, // Linode / Akamai
  20473, // Vultr
  31898, // Oracle Cloud
  45102,
  37963, // Alibaba
  132203, // Tencent
  12876, // Scaleway
  51167, // Contabo
  36352, // ColoCrossing
  9009, // M247
  60781,
  28753, // Leaseweb
];
const DATACENTER = new Set(DATACENTER_ASNS);

/** Events per visitor per minute above which a human is implausible. */
export const VELOCITY_LIMIT_PER_MINUTE = 120;
/** Cloudflare Bot Management scores below this are "likely automated". */
export const BOT_SCORE_THRESHOLD = 30;

export interface BotSignals {
  userAgent: string;
  asn?: number;
  /** `request.cf.botManagement.score` (1–99) where the zone has Bot Management. */
  botScore?: number;
  verifiedBot?: boolean;
  /** Events this visitor sent in the current minute, including this one. */
  eventsThisMinute?: number;
  /** False for imported history, where a missing user agent says nothing about the visitor. */
  userAgentExpected?: boolean;
}

export interface BotVerdict {
  is_bot: boolean;
  bot_reason: BotReason | "";
}

/** The first matching rule names the reason; no rule, no bot. */
export function classifyBot(s: BotSignals): BotVerdict {
  const reason = firstReason(s);
  return { is_bot: reason !== "", bot_reason: reason };
}

/** What the user agent alone says; traffic repeats a few thousand UAs, so verdicts are cached. */
const uaVerdicts = new LruCache<string, BotReason | "">(5_000);
function userAgentReason(ua: string): BotReason | "" {
  return uaVerdicts.getOrCompute(ua, (u) => (HEADLESS.test(u) ? "headless" : isbot(u) ? "ua_crawler" : ""));
}

function firstReason(s: BotSignals): BotReason | "" {
  if (s.userAgent.trim() === "") return s.userAgentExpected === false ? "" : "no_user_agent";
  if (s.verifiedBot) return "cf_verified_bot";
  const byUserAgent = userAgentReason(s.userAgent);
  if (byUserAgent) return byUserAgent;
  if (s.botScore !== undefined && s.botScore > 0 && s.botScore < BOT_SCORE_THRESHOLD) return "cf_bot_management";
  if (s.asn !== undefined && DATACENTER.has(s.asn)) return "datacenter_asn";
  if ((s.eventsThisMinute ?? 0) > VELOCITY_LIMIT_PER_MINUTE) return "velocity";
  return "";
}
