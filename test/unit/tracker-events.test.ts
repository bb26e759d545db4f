/**
 * The tracker's pure parts (web/tracker/events.ts): every event it builds is one /collect accepts,
 * and its copies of core's constants and wildcard rules equal core's (the tracker cannot import
 * them without bundling zod), so the two cannot drift apart.
 */
import { describe, expect, it } from "vitest";
import { MAX_URL_LENGTH as CORE_MAX_URL, EVENT_ID_PATTERN, EventInputSchema } from "../../core/event.ts";
import { MAX_EVENTS_PER_REQUEST as CORE_MAX_EVENTS } from "../../core/ingest/collect-batch.ts";
import { goalPathRegex } from "../../core/property/goals.ts";
import {
  buildEvent,
  DOWNLOADS,
  excludeRegex,
  httpReferrer,
  isLocalHost,
  linkEvent,
  MAX_EVENTS_PER_REQUEST,
  MAX_TITLE_LENGTH,
  MAX_URL_LENGTH,
  type Page,
  pathRegex,
  randomId,
} from "../../web/tracker/events.ts";

const page: Page = {
  property_id: "UA-DEMO-1",
  client_id: "c1",
  page_url: "https://example.com/pricing?plan=pro",
  page_title: "Pricing",
  referrer: "https://www.google.com/",
  screen_resolution: "1920x1080",
  viewport_size: "1280x720",
  language: "en-US",
};

/** What /collect receives: the event after JSON (undefined fields gone). */
const wire = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("the tracker's copies of core's rules", () => {
  it("uses core's batch limit and URL length", () => {
    expect(MAX_EVENTS_PER_REQUEST).toBe(CORE_MAX_EVENTS);
    expect(MAX_URL_LENGTH).toBe(CORE_MAX_URL);
  });

  it("cuts titles and dimensions at exactly the length the contract allows", () => {
    const at = (title: string) => EventInputSchema.safeParse({ ...wire(page), event_type: "x", page_title: title });
    expect(at("t".repeat(MAX_TITLE_LENGTH)).success).toBe(true);
    expect(at("t".repeat(MAX_TITLE_LENGTH + 1)).success).toBe(false);
  });

  const patterns = [
    "/",
    "/blog",
    "/blog/*",
    "/blog/**",
    "/**/edit",
    "/a/*/c",
    "/v1.2/*",
    "/(x)/[y]/$z^",
    "/~user/**",
    "*",
  ];
  const paths = [
    "/",
    "/blog",
    "/blog/",
    "/blog/a",
    "/blog/a/b",
    "/x/edit",
    "/x/y/edit",
    "/a/b/c",
    "/a/b/b/c",
    "/v1.2/x",
    "/v1x2/x",
    "/(x)/[y]/$z^",
    "/~user/a/b",
    "/other",
  ];
  it.each(patterns)("matches %s exactly where core's goal patterns do", (pattern) => {
    const ours = new RegExp(pathRegex(pattern));
    const core = new RegExp(goalPathRegex(pattern));
    const mismatches = paths.filter((p) => ours.test(p) !== core.test(p));
    expect(mismatches).toEqual([]);
  });
});

describe("buildEvent", () => {
  it("builds a pageview /collect accepts, with a fresh event id", () => {
    const event = wire(buildEvent("pageview", page));
    expect(EventInputSchema.safeParse(event).error).toBeUndefined();
    expect(event).toMatchObject({ ...page, event_type: "pageview" });
    expect(event.event_id).toMatch(EVENT_ID_PATTERN);
    expect(buildEvent("pageview", page).event_id).not.toBe(event.event_id);
  });

  it("splits properties: numbers to custom_metrics, everything else to custom_dimensions as text", () => {
    const event = wire(buildEvent("signup", page, { plan: "pro", seats: 3, trial: true, price: 9.5 }));
    expect(event.custom_dimensions).toEqual({ plan: "pro", trial: "true" });
    expect(event.custom_metrics).toEqual({ seats: 3, price: 9.5 });
    expect(EventInputSchema.safeParse(event).success).toBe(true);
  });

  it("sends no custom fields for an event without properties", () => {
    const event = wire(buildEvent("pageview", page, {}));
    expect(Object.keys(event)).not.toContain("custom_dimensions");
    expect(Object.keys(event)).not.toContain("custom_metrics");
  });

  it("accepts a page without client_id (cookieless) or title", () => {
    const event = wire(buildEvent("pageview", { ...page, client_id: undefined, page_title: "" }));
    expect(event.client_id).toBeUndefined();
    expect(EventInputSchema.safeParse(event).success).toBe(true);
  });
});

describe("httpReferrer", () => {
  it.each([
    ["", undefined],
    ["android-app://com.google.android.gm/", undefined],
    ["https://news.ycombinator.com/item?id=1", "https://news.ycombinator.com/item?id=1"],
    ["http://a.example/", "http://a.example/"],
  ])("keeps only http(s) referrers: %s", (referrer, expected) => {
    expect(httpReferrer(referrer)).toBe(expected);
  });

  it("cuts a long referrer to a URL /collect still accepts", () => {
    const long = httpReferrer(`https://example.com/?q=${"a".repeat(5000)}`);
    expect(long).toHaveLength(MAX_URL_LENGTH);
    expect(EventInputSchema.safeParse({ ...wire(page), event_type: "x", referrer: long }).success).toBe(true);
  });
});

describe("excludeRegex", () => {
  it("joins a comma list, spaces allowed, with the goal wildcard rules", () => {
    const excluded = excludeRegex("/admin/**, /drafts/*");
    expect(["/admin/users/1", "/drafts/x"].filter((p) => excluded.test(p))).toEqual(["/admin/users/1", "/drafts/x"]);
    expect(["/", "/admin", "/drafts/x/y", "/blog"].some((p) => excluded.test(p))).toBe(false);
  });

  it("excludes nothing without a list", () => {
    expect(["/", "/a", "/#/b"].some((p) => excludeRegex(undefined).test(p))).toBe(false);
  });
});

describe("linkEvent", () => {
  const url = (href: string) => new URL(href);
  it.each([
    ["https://other.example/x", true, true, "outbound_link"],
    ["https://other.example/x", false, true, undefined],
    ["https://example.com/x", true, true, undefined],
    ["https://example.com/files/report.PDF", true, true, "file_download"],
    ["https://cdn.example/setup.dmg", true, true, "file_download"],
    ["https://cdn.example/setup.dmg", true, false, "outbound_link"],
    ["https://example.com/report.pdf", true, false, undefined],
    ["https://example.com/report.pdf.html", true, true, undefined],
    ["mailto:hi@example.com", true, true, undefined],
    ["tel:+15550100", true, true, undefined],
  ])("%s (outbound %s, downloads %s) → %s", (href, outbound, downloads, expected) => {
    expect(linkEvent(url(href), "example.com", outbound, downloads ? DOWNLOADS : undefined)).toBe(expected);
  });
});

describe("isLocalHost", () => {
  it.each([
    ["localhost", true],
    ["127.0.0.1", true],
    ["[::1]", true],
    ["app.localhost", true],
    ["example.com", false],
    ["localhost.example.com", false],
    ["mylocalhost", false],
  ])("%s → %s", (host, local) => {
    expect(isLocalHost(host)).toBe(local);
  });
});

describe("randomId", () => {
  it("gives valid, distinct event ids", () => {
    const ids = Array.from({ length: 10_000 }, randomId);
    expect(ids.filter((id) => !EVENT_ID_PATTERN.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
