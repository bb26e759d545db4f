/** The pure enrichment functions: user agent, page URL, referrer classification, privacy, bots. */
import { describe, expect, it } from "vitest";
import { classifyBot, DATACENTER_ASNS, VELOCITY_LIMIT_PER_MINUTE } from "../../core/enrich/bot.ts";
import { enrichEvent, NO_GEO } from "../../core/enrich/enrich.ts";
import { CLICK_ID_PARAMS, parsePage } from "../../core/enrich/page.ts";
import { cookielessVisitorId, saltDay, truncateIp } from "../../core/enrich/privacy.ts";
import { classifyReferrer } from "../../core/enrich/referrer.ts";
import { parseUserAgent, userAgentCache } from "../../core/enrich/user-agent.ts";
import { EventSchema } from "../../core/event.ts";

const CHROME_WIN =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const IPAD =
  "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1";
const TV =
  "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36";
const HEADLESS =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36";
const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

describe("parseUserAgent", () => {
  it.each([
    [
      CHROME_WIN,
      { browser: "Chrome", browser_version: "131", os: "Windows", os_version: "10", device_type: "desktop" },
    ],
    [IPHONE, { browser: "Mobile Safari", browser_version: "17", os: "iOS", os_version: "17.0", device_type: "mobile" }],
    [IPAD, { browser: "Mobile Safari", os: "iOS", device_type: "tablet" }],
    [TV, { browser: "Samsung Internet", os: "Tizen", device_type: "tv" }],
  ])("reads %s", (ua, expected) => {
    expect(parseUserAgent(ua)).toMatchObject(expected);
  });

  it("lets client hints correct a frozen desktop UA", () => {
    expect(
      parseUserAgent(CHROME_WIN, { mobile: "?1", platform: '"Android"', platformVersion: '"14.0.0"' }),
    ).toMatchObject({
      device_type: "mobile",
      os: "Android",
      os_version: "14.0.0",
    });
  });

  it("serves repeated UAs from the cache", () => {
    const before = userAgentCache.hits;
    parseUserAgent(CHROME_WIN);
    parseUserAgent(CHROME_WIN);
    expect(userAgentCache.hits).toBeGreaterThanOrEqual(before + 2);
  });
});

describe("parsePage", () => {
  it("extracts host, path, UTM parameters and the ad click id", () => {
    expect(
      parsePage(
        "https://Shop.Example.com/p/1?utm_source=google&utm_medium=cpc&utm_campaign=bf&utm_term=shoes&utm_content=a&gclid=x",
      ),
    ).toEqual({
      page_host: "shop.example.com",
      page_path: "/p/1",
      utm_source: "google",
      utm_medium: "cpc",
      utm_campaign: "bf",
      utm_term: "shoes",
      utm_content: "a",
      click_id_type: "gclid",
    });
  });

  it("reads parameters as URLSearchParams does, encoded names and values included", () => {
    const reference = (url: string) => {
      const q = new URL(url).searchParams;
      const get = (name: string) => (q.get(name) ?? "").slice(0, 256);
      return {
        utm_source: get("utm_source"),
        utm_medium: get("utm_medium"),
        utm_campaign: get("utm_campaign"),
        utm_term: get("utm_term"),
        utm_content: get("utm_content"),
        click_id_type: CLICK_ID_PARAMS.find((p) => q.has(p)) ?? "",
      };
    };
    const queries = [
      "",
      "?",
      "?utm_source=news&utm_medium=email",
      "?%75tm_source=encoded+name&fbclid",
      "?utm_source=a+b&utm_term=%E2%82%AC",
      "?x=utm_source&y=gclid",
      "?UTM_SOURCE=upper&msclkid=1&gclid=2",
      "?utm_source&utm_campaign=",
      "?utm_content=%zz&li_fat_id=9",
      `?utm_campaign=${"c".repeat(300)}`,
    ];
    for (const query of queries) {
      const url = `https://example.com/p${query}#frag`;
      expect(parsePage(url), url).toMatchObject(reference(url));
    }
    // The name only as a value: no parameter of that name.
    expect(parsePage("https://example.com/?x=gclid").click_id_type).toBe("");
    expect(parsePage("https://example.com/?%67clid=1").click_id_type).toBe("gclid");
  });

  it("keeps #/route in the path only with hash routing", () => {
    expect(parsePage("https://app.example.com/#/settings").page_path).toBe("/");
    expect(parsePage("https://app.example.com/#/settings", true).page_path).toBe("/#/settings");
  });
});

describe("classifyReferrer", () => {
  const base = { pageHost: "example.com", siteDomains: ["example.com"], utmSource: "", utmMedium: "", clickIdType: "" };
  it.each([
    ["no referrer", undefined, {}, { referrer_host: "", source: "", channel: "Direct" }],
    [
      "Google",
      "https://www.google.co.uk/",
      {},
      { referrer_host: "www.google.co.uk", source: "Google", channel: "Organic Search" },
    ],
    [
      "Google with gclid",
      "https://www.google.com/",
      { clickIdType: "gclid" },
      { source: "Google", channel: "Paid Search" },
    ],
    ["t.co", "https://t.co/abc", {}, { source: "Twitter", channel: "Organic Social" }],
    ["Hacker News", "https://news.ycombinator.com/item?id=1", {}, { source: "Hacker News", channel: "Organic Social" }],
    ["ChatGPT", "https://chatgpt.com/", {}, { source: "ChatGPT", channel: "AI" }],
    ["Gmail", "https://mail.google.com/", {}, { source: "Gmail", channel: "Email" }],
    [
      "a blog",
      "https://blog.other.org/post",
      {},
      { referrer_host: "blog.other.org", source: "blog.other.org", channel: "Referral" },
    ],
    ["the site itself", "https://www.example.com/pricing", {}, { referrer_host: "", source: "", channel: "Direct" }],
    ["a subdomain of the site", "https://docs.example.com/", {}, { referrer_host: "", channel: "Direct" }],
    [
      "utm email",
      undefined,
      { utmSource: "newsletter", utmMedium: "email" },
      { source: "newsletter", channel: "Email" },
    ],
    [
      "utm facebook cpc",
      undefined,
      { utmSource: "facebook", utmMedium: "cpc" },
      { source: "Facebook", channel: "Paid Social" },
    ],
  ])("%s", (_name, referrer, overrides, expected) => {
    expect(classifyReferrer({ ...base, referrer, ...overrides })).toMatchObject(expected);
  });
});

describe("privacy", () => {
  it.each([
    ["203.0.113.77", "truncate", "203.0.113.0"],
    ["2001:db8:1:2:3:4:5:6", "truncate", "2001:db8:1::"],
    ["2001:0db8::5", "truncate", "2001:db8:0::"],
    ["203.0.113.77", "none", ""],
    ["not an ip", "truncate", ""],
  ] as const)("truncates %s (%s) to %j", (ip, mode, expected) => {
    expect(truncateIp(ip, mode)).toBe(expected);
  });

  it("derives a stable cookieless id per day, property, IP and UA — and a different one when any changes", async () => {
    const a = await cookielessVisitorId("salt-1", "UA-1-1", "203.0.113.77", CHROME_WIN);
    expect(a).toMatch(/^cl_[0-9a-f]{32}$/);
    expect(await cookielessVisitorId("salt-1", "UA-1-1", "203.0.113.77", CHROME_WIN)).toBe(a);
    for (const other of [
      cookielessVisitorId("salt-2", "UA-1-1", "203.0.113.77", CHROME_WIN),
      cookielessVisitorId("salt-1", "UA-2-1", "203.0.113.77", CHROME_WIN),
      cookielessVisitorId("salt-1", "UA-1-1", "203.0.113.78", CHROME_WIN),
      cookielessVisitorId("salt-1", "UA-1-1", "203.0.113.77", IPHONE),
    ]) {
      expect(await other).not.toBe(a);
    }
    expect(saltDay(Date.UTC(2026, 10, 26, 23, 59))).toBe("2026-11-26");
  });
});

describe("classifyBot", () => {
  it.each([
    [{ userAgent: "" }, "no_user_agent"],
    [{ userAgent: CHROME_WIN, verifiedBot: true }, "cf_verified_bot"],
    [{ userAgent: HEADLESS }, "headless"],
    [{ userAgent: GOOGLEBOT }, "ua_crawler"],
    [{ userAgent: "curl/8.5.0" }, "ua_crawler"],
    [{ userAgent: CHROME_WIN, botScore: 2 }, "cf_bot_management"],
    [{ userAgent: CHROME_WIN, asn: DATACENTER_ASNS[0] }, "datacenter_asn"],
    [{ userAgent: CHROME_WIN, eventsThisMinute: VELOCITY_LIMIT_PER_MINUTE + 1 }, "velocity"],
  ])("flags %j as %s", (signals, reason) => {
    expect(classifyBot(signals)).toEqual({ is_bot: true, bot_reason: reason });
  });

  it("passes a person on a residential network", () => {
    expect(classifyBot({ userAgent: IPHONE, asn: 3320, botScore: 90, eventsThisMinute: 12 })).toEqual({
      is_bot: false,
      bot_reason: "",
    });
  });
});

describe("enrichEvent", () => {
  it("builds an event the schema accepts, flagging bots with device_type bot", () => {
    const event = enrichEvent({
      input: { property_id: "UA-1-1", event_type: "pageview", page_url: "https://example.com/a?utm_source=x" },
      event_id: "e1",
      event_timestamp: Date.UTC(2026, 10, 26),
      facts: { ip: "203.0.113.77", userAgent: GOOGLEBOT, hints: {}, geo: { ...NO_GEO, country: "US", asn: 15169 } },
      policy: { ipMode: "truncate", domains: ["example.com"] },
      visitorId: "cl_abc",
      visitorIdSource: "cookieless",
      sourceProtocol: "tally",
    });
    expect(EventSchema.parse(event)).toMatchObject({
      client_id: "cl_abc",
      country: "US",
      page_path: "/a",
      utm_source: "x",
      ip_prefix: "203.0.113.0",
      is_bot: true,
      bot_reason: "ua_crawler",
      device_type: "bot",
      user_agent: GOOGLEBOT,
    });
  });

  it.each([
    ["engagement", false],
    ["user_engagement", false],
    ["signup", true],
    ["pageview", true],
  ])("marks %s as interactive: %s (engagement pings never un-bounce a visit)", (event_type, interactive) => {
    const event = enrichEvent({
      input: { property_id: "UA-1-1", event_type, page_url: "https://example.com/" },
      event_id: "e1",
      event_timestamp: Date.UTC(2026, 10, 26),
      facts: { ip: "203.0.113.77", userAgent: IPHONE, hints: {}, geo: NO_GEO },
      policy: { ipMode: "truncate", domains: ["example.com"] },
      visitorId: "c1",
      visitorIdSource: "client",
      sourceProtocol: "tally",
    });
    expect(event.interactive).toBe(interactive);
  });
});
