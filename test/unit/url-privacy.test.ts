/**
 * Privacy by default for URLs (issue #17): stored page URLs keep only utm_*, the ad click ids and
 * the property's allowlist; referrers keep scheme, host and path; credentials and fragments go
 * (hash routes keep their route). Old events arrive without their raw user agent. The property's
 * allowlist is validated and patched without resetting the other privacy settings.
 */
import { describe, expect, it } from "vitest";
import { type EnrichArgs, enrichEvent, NO_GEO } from "../../core/enrich/enrich.ts";
import { CLICK_ID_PARAMS } from "../../core/enrich/page.ts";
import { keepsPageParam, privatePageUrl, privateReferrer } from "../../core/enrich/privacy.ts";
import {
  applyPatch,
  CreatePropertySchema,
  PatchPropertySchema,
  type PropertyConfig,
  PropertyConfigSchema,
} from "../../core/property/property.ts";
import { DAY_MS } from "../../core/time.ts";
import { stripUrl } from "../../core/url.ts";

describe("privatePageUrl", () => {
  it.each([
    ["https://example.com/reset?token=s3cr3t&email=a%40b.com", "https://example.com/reset"],
    [
      "https://example.com/p?utm_source=news&token=x&utm_medium=email&gclid=G1",
      "https://example.com/p?utm_source=news&utm_medium=email&gclid=G1",
    ],
    ["https://example.com/p?UTM_Campaign=Spring&x=1", "https://example.com/p?UTM_Campaign=Spring"],
    ["https://user:pw@example.com/p", "https://example.com/p"],
    ["https://example.com/cb#access_token=abc", "https://example.com/cb"],
    ["https://example.com/a?b", "https://example.com/a"],
    ["https://example.com/a?utm%5Fsource=x", "https://example.com/a?utm%5Fsource=x"],
  ])("stores %s as %s", (input, stored) => {
    expect(privatePageUrl(input)).toBe(stored);
  });

  it("gives back the very string when nothing is dropped", () => {
    for (const url of ["https://example.com", "https://EXAMPLE.com/a/b/?utm_source=x", "https://example.com/é"])
      expect(privatePageUrl(url)).toBe(url);
  });

  it("keeps every click id the channel rules read", () => {
    const url = `https://example.com/?${CLICK_ID_PARAMS.map((p) => `${p}=1`).join("&")}&session=9`;
    expect(privatePageUrl(url)).toBe(`https://example.com/?${CLICK_ID_PARAMS.map((p) => `${p}=1`).join("&")}`);
  });

  it("keeps the property's own parameters, by exact name", () => {
    expect(privatePageUrl("https://shop.example/s?q=shoes&Q=x&page=2&sid=1", ["q", "page"])).toBe(
      "https://shop.example/s?q=shoes&page=2",
    );
    expect(keepsPageParam("q", [])).toBe(false);
  });

  it("keeps a hash route without a query inside it", () => {
    expect(privatePageUrl("https://app.example/#/reset?token=x", [], true)).toBe("https://app.example/#/reset");
    expect(privatePageUrl("https://app.example/#/users/7", [], true)).toBe("https://app.example/#/users/7");
    expect(privatePageUrl("https://app.example/#/users/7", [], false)).toBe("https://app.example/");
  });

  it("leaves a string that is not a URL as it is", () => {
    expect(stripUrl("not a url", () => false)).toBe("not a url");
  });
});

describe("privateReferrer", () => {
  it.each([
    ["https://www.google.com/search?q=my+name&client=x", "https://www.google.com/search"],
    ["https://mail.example/inbox?u=jane%40example.com#msg", "https://mail.example/inbox"],
    ["https://news.ycombinator.com/item", "https://news.ycombinator.com/item"],
  ])("stores %s as %s", (input, stored) => {
    expect(privateReferrer(input)).toBe(stored);
  });
});

describe("enrichEvent stores private URLs", () => {
  const NOW = Date.UTC(2026, 10, 26, 12);
  const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
  const args = (over: Partial<EnrichArgs> = {}): EnrichArgs => ({
    input: {
      property_id: "UA-1-1",
      event_type: "pageview",
      page_url: "https://example.com/a?utm_source=news&token=t0ps3cret&q=hat#frag",
      referrer: "https://www.bing.com/search?q=jane+doe",
    },
    event_id: "e1",
    event_timestamp: NOW,
    facts: { ip: "198.51.100.23", userAgent: UA, hints: {}, geo: NO_GEO },
    policy: { ipMode: "truncate", domains: ["example.com"] },
    visitorId: "c1",
    visitorIdSource: "client",
    sourceProtocol: "tally",
    ...over,
  });

  it("drops unlisted parameters from page_url and the query from the referrer, reports unchanged", () => {
    const event = enrichEvent(args());
    expect(event).toMatchObject({
      page_url: "https://example.com/a?utm_source=news",
      referrer: "https://www.bing.com/search",
      page_path: "/a",
      utm_source: "news",
      source: "news",
      referrer_host: "www.bing.com",
    });
    expect(JSON.stringify(event)).not.toContain("t0ps3cret");
    expect(JSON.stringify(event)).not.toContain("jane");
  });

  it("keeps the parameters the property lists", () => {
    const policy = { ipMode: "truncate" as const, domains: ["example.com"], queryParams: ["q"] };
    expect(enrichEvent(args({ policy })).page_url).toBe("https://example.com/a?utm_source=news&q=hat");
  });

  it("stores no raw user agent for events older than the raw-UA period, only its parsed fields", () => {
    const since = NOW - 30 * DAY_MS;
    const policy = { ipMode: "truncate" as const, domains: ["example.com"], rawUserAgentSince: since };
    const old = enrichEvent(args({ policy, event_timestamp: since - 1 }));
    expect(old.user_agent).toBeUndefined();
    expect(old.browser).toBe("Firefox");
    expect(enrichEvent(args({ policy, event_timestamp: since })).user_agent).toBe(UA);
  });
});

describe("the property's query-parameter allowlist", () => {
  const created = CreatePropertySchema.parse({ name: "Shop", domains: ["shop.example"] });
  const config: PropertyConfig = {
    property_id: "UA-9-1",
    ...created,
    disabled: false,
    privacy: { ...created.privacy, cookieless_only: true },
    created_at: 1,
  };

  it("defaults to none, also for configurations stored before it existed", () => {
    expect(created.privacy.query_params).toEqual([]);
    const { query_params: _, ...older } = config.privacy;
    expect(PropertyConfigSchema.parse({ ...config, privacy: older }).privacy.query_params).toEqual([]);
  });

  it("refuses a name that is not a parameter name, naming the field", () => {
    const bad = PatchPropertySchema.safeParse({ privacy: { query_params: ["q", "a&b"] } });
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["privacy.query_params.1"]);
    expect(PatchPropertySchema.safeParse({ privacy: { query_params: Array(51).fill("q") } }).success).toBe(false);
  });

  it("is patched alone, leaving the other privacy settings as they were", () => {
    const patched = applyPatch(config, PatchPropertySchema.parse({ privacy: { query_params: ["q"] } }));
    expect(patched.privacy).toEqual({ ...config.privacy, query_params: ["q"] });
    const other = applyPatch(patched, PatchPropertySchema.parse({ privacy: { respect_dnt: true } }));
    expect(other.privacy).toEqual({ ...config.privacy, query_params: ["q"], respect_dnt: true });
  });
});
