/**
 * Where a visit came from: the referrer's host, a named `source` for well-known sites, and a
 * `channel` in the spirit of GA4's default channel grouping. Same-site referrers are internal
 * navigation, not sources.
 */

import { parseUrl } from "../url.ts";
import { LruCache } from "./lru.ts";

export const CHANNELS = [
  "Direct",
  "Organic Search",
  "Paid Search",
  "Organic Social",
  "Paid Social",
  "Email",
  "Referral",
  "AI",
  "Organic Video",
  "Display",
  "Affiliates",
  "Paid Other",
] as const;
export type Channel = (typeof CHANNELS)[number];

type Category = "search" | "social" | "email" | "ai" | "video";

/** Host (or parent domain) → source name and category; the first match wins, so specific hosts come first. */
const KNOWN_SOURCES: ReadonlyArray<readonly [RegExp, string, Category]> = [
  [/^mail\.google\.com$/, "Gmail", "email"],
  [/^gemini\.google\.com$/, "Gemini", "ai"],
  [/^(outlook\.live|outlook\.office|outlook\.office365)\.com$/, "Outlook", "email"],
  [/^mail\.yahoo\.com$/, "Yahoo Mail", "email"],
  [/(^|\.)(chatgpt\.com|chat\.openai\.com)$/, "ChatGPT", "ai"],
  [/(^|\.)perplexity\.ai$/, "Perplexity", "ai"],
  [/(^|\.)claude\.ai$/, "Claude", "ai"],
  [/(^|\.)copilot\.microsoft\.com$/, "Copilot", "ai"],
  [/(^|\.)deepseek\.com$/, "DeepSeek", "ai"],
  [/(^|\.)(you\.com|phind\.com)$/, "AI assistant", "ai"],
  [/(^|\.)google(\.[a-z]{2,3}){1,2}$/, "Google", "search"],
  [/(^|\.)bing\.com$/, "Bing", "search"],
  [/(^|\.)duckduckgo\.com$/, "DuckDuckGo", "search"],
  [/(^|\.)search\.yahoo\.com$|(^|\.)yahoo\.co(m|\.jp)$/, "Yahoo", "search"],
  [/(^|\.)yandex\.[a-z]{2,3}$/, "Yandex", "search"],
  [/(^|\.)baidu\.com$/, "Baidu", "search"],
  [/(^|\.)ecosia\.org$/, "Ecosia", "search"],
  [/^search\.brave\.com$/, "Brave Search", "search"],
  [/(^|\.)(startpage\.com|qwant\.com|naver\.com|seznam\.cz|sogou\.com|so\.com)$/, "Search engine", "search"],
  [/(^|\.)(facebook\.com|fb\.com|fb\.me)$/, "Facebook", "social"],
  [/(^|\.)instagram\.com$/, "Instagram", "social"],
  [/^(t\.co|(.*\.)?twitter\.com|(.*\.)?x\.com)$/, "Twitter", "social"],
  [/(^|\.)(linkedin\.com|lnkd\.in)$/, "LinkedIn", "social"],
  [/(^|\.)reddit\.com$/, "Reddit", "social"],
  [/^news\.ycombinator\.com$/, "Hacker News", "social"],
  [/(^|\.)pinterest\.[a-z.]+$/, "Pinterest", "social"],
  [/(^|\.)tiktok\.com$/, "TikTok", "social"],
  [/(^|\.)threads\.(net|com)$/, "Threads", "social"],
  [/(^|\.)bsky\.app$/, "Bluesky", "social"],
  [/(^|\.)mastodon\.[a-z]+$/, "Mastodon", "social"],
  [/(^|\.)(whatsapp\.com|wa\.me)$/, "WhatsApp", "social"],
  [/(^|\.)(t\.me|telegram\.org)$/, "Telegram", "social"],
  [/(^|\.)(discord\.com|discord\.gg)$/, "Discord", "social"],
  [/(^|\.)vk\.com$/, "VK", "social"],
  [/(^|\.)quora\.com$/, "Quora", "social"],
  [/(^|\.)(youtube\.com|youtu\.be)$/, "YouTube", "video"],
  [/(^|\.)(vimeo\.com|twitch\.tv)$/, "Video", "video"],
];

const PAID_MEDIUM = /^(.*cp.*|ppc|retargeting|paid.*)$/;
const EMAIL_MEDIUM = /^(e[-_ ]?mail|newsletter)$/;
const DISPLAY_MEDIUM = /^(display|banner|expandable|interstitial|cpm)$/;
const SOCIAL_MEDIUM = /^(social|social[-_ ]network|social[-_ ]media|sm)$/;

export interface ReferrerInfo {
  referrer_host: string;
  source: string;
  channel: Channel;
}

const knownCache = new LruCache<string, { name: string; category: Category } | null>(5_000);

function known(host: string): { name: string; category: Category } | undefined {
  return (
    knownCache.getOrCompute(host, (h) => {
      for (const [pattern, name, category] of KNOWN_SOURCES) if (pattern.test(h)) return { name, category };
      return null;
    }) ?? undefined
  );
}

const bare = (host: string) => host.replace(/^(www|m|l|lm|mobile)\./, "");

function isSameSite(referrerHost: string, pageHost: string, siteDomains: readonly string[]): boolean {
  if (bare(referrerHost) === bare(pageHost)) return true;
  return siteDomains.some((d) => referrerHost === d || referrerHost.endsWith(`.${d}`));
}

/** Classifies one hit. `utm` and `clickIdType` come from the page URL (see page.ts). */
export function classifyReferrer(input: {
  referrer: string | undefined;
  pageHost: string;
  siteDomains?: readonly string[];
  utmSource: string;
  utmMedium: string;
  clickIdType: string;
}): ReferrerInfo {
  let referrerHost = "";
  if (input.referrer) referrerHost = parseUrl(input.referrer)?.hostname.toLowerCase() ?? "";
  const internal = referrerHost !== "" && isSameSite(referrerHost, input.pageHost, input.siteDomains ?? []);
  const external = internal ? "" : referrerHost;
  const fromHost = external ? known(external) : undefined;
  const utmSource = input.utmSource.trim();
  const fromUtm = utmSource ? (known(utmSource.toLowerCase()) ?? known(`${utmSource.toLowerCase()}.com`)) : undefined;
  const source = fromUtm?.name ?? (utmSource || fromHost?.name || bare(external));
  const category = fromUtm?.category ?? fromHost?.category;
  return {
    referrer_host: external,
    source,
    channel: channel(input.utmMedium.toLowerCase(), input.clickIdType, category, source),
  };
}

function channel(medium: string, clickIdType: string, category: Category | undefined, source: string): Channel {
  const paid = clickIdType !== "" || PAID_MEDIUM.test(medium);
  if (paid && category === "search") return "Paid Search";
  if (paid && (category === "social" || category === "video")) return "Paid Social";
  if (paid && clickIdType === "gclid") return "Paid Search";
  if (paid && ["fbclid", "ttclid", "twclid", "li_fat_id", "rdt_cid", "sccid"].includes(clickIdType))
    return "Paid Social";
  if (paid) return "Paid Other";
  if (EMAIL_MEDIUM.test(medium) || category === "email") return "Email";
  if (DISPLAY_MEDIUM.test(medium)) return "Display";
  if (medium === "affiliate") return "Affiliates";
  if (category === "ai") return "AI";
  if (category === "search" || medium === "organic") return "Organic Search";
  if (category === "social" || SOCIAL_MEDIUM.test(medium)) return "Organic Social";
  if (category === "video") return "Organic Video";
  return source ? "Referral" : "Direct";
}
