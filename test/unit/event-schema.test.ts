import { describe, expect, it } from "vitest";
import { EventInputSchema, eventIdentity } from "../../core/event.ts";
import { toFieldIssues } from "../../core/issues.ts";

const minimal = { property_id: "UA-DEMO-1", client_id: "c1", event_type: "pageview", page_url: "https://example.com/" };
const full = {
  ...minimal,
  user_id: "u-42",
  event_id: "0196f2c0-8c6a-7d1e-9a2b-3c4d5e6f7a8b",
  event_timestamp: "2026-11-26T09:30:00Z",
  page_title: "Home",
  referrer: "https://www.google.com/",
  user_agent: "Mozilla/5.0 (X11; Linux x86_64)",
  screen_resolution: "1920x1080",
  viewport_size: "1280x720",
  language: "en-US",
  custom_dimensions: { plan: "pro" },
  custom_metrics: { cart_value: 42.5 },
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = EventInputSchema.safeParse(input);
  if (result.success) return [];
  return toFieldIssues(result.error, "events[0]");
}

describe("EventInputSchema", () => {
  it("accepts the four required fields alone", () => {
    expect(EventInputSchema.safeParse(minimal).success).toBe(true);
  });

  it("accepts every documented field", () => {
    expect(EventInputSchema.parse(full)).toEqual(full);
  });

  it("accepts an event without client_id (the edge derives a cookieless visitor id)", () => {
    const { client_id: _, ...rest } = minimal;
    expect(EventInputSchema.safeParse(rest).success).toBe(true);
  });

  it.each(["property_id", "event_type", "page_url"])("names a missing %s as required", (field) => {
    const { [field as keyof typeof minimal]: _, ...rest } = minimal;
    expect(issuesOf(rest)).toEqual([{ path: `events[0].${field}`, message: "is required" }]);
  });

  it("names an unknown field instead of dropping it silently", () => {
    expect(issuesOf({ ...minimal, pageurl: "x" })).toEqual([
      { path: "events[0].pageurl", message: "is not a known field" },
    ]);
  });

  it.each([
    ["page_url", "data:text/html,<script>alert(1)</script>", "http(s) URL"],
    ["page_url", "javascript:alert(1)", "http(s) URL"],
    ["page_url", "/relative/path", "http(s) URL"],
    ["page_url", `https://example.com/${"a".repeat(2100)}`, "2048"],
    ["referrer", "ftp://example.com/", "http(s) URL"],
    ["property_id", "x", "UA-12345-1"],
    ["property_id", "bad id with spaces", "UA-12345-1"],
    ["client_id", "", "1"],
    ["client_id", "a".repeat(129), "128"],
    ["event_type", "line\nbreak", "control characters"],
    ["client_id", "lone \ud800 surrogate", "valid Unicode"],
    ["page_url", "https://example.com/\udfff", "valid Unicode"],
    ["event_type", "e".repeat(121), "120"],
    ["event_id", "not an id!", "[A-Za-z0-9._:-]"],
    ["event_timestamp", "last tuesday", "ISO 8601"],
    ["event_timestamp", true, "ISO 8601"],
    ["screen_resolution", "big", "1920x1080"],
    ["language", "english please", "en-US"],
    ["page_title", 42, "string"],
  ])("rejects %s = %j naming the field", (field, value, hint) => {
    const issues = issuesOf({ ...minimal, [field]: value });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(`events[0].${field}`);
    expect(issues[0]?.message).toContain(hint);
  });

  it("bounds custom dimensions by key form, value length and entry count", () => {
    expect(issuesOf({ ...minimal, custom_dimensions: { "bad key": "x" } })[0]?.path).toBe(
      "events[0].custom_dimensions.bad key",
    );
    expect(issuesOf({ ...minimal, custom_dimensions: { k: "v".repeat(513) } })[0]?.path).toBe(
      "events[0].custom_dimensions.k",
    );
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    expect(issuesOf({ ...minimal, custom_dimensions: many })[0]?.message).toContain("at most 50");
  });

  it("accepts only finite numbers as custom metrics", () => {
    expect(issuesOf({ ...minimal, custom_metrics: { m: "12" } })[0]?.path).toBe("events[0].custom_metrics.m");
    expect(issuesOf({ ...minimal, custom_metrics: { m: Number.POSITIVE_INFINITY } })).toHaveLength(1);
  });

  it("rejects a non-object event", () => {
    expect(issuesOf("pageview")[0]?.path).toBe("events[0]");
    expect(issuesOf(null)[0]?.path).toBe("events[0]");
  });
});

describe("eventIdentity", () => {
  const now = Date.UTC(2026, 10, 26, 10, 0, 0);
  const newId = () => "generated-id";

  it("keeps a client's event_id so retries dedupe downstream", () => {
    expect(eventIdentity(EventInputSchema.parse(full), now, newId).event_id).toBe(full.event_id);
  });

  it("assigns an id and the receive time when the client sent neither", () => {
    expect(eventIdentity(EventInputSchema.parse(minimal), now, newId)).toEqual({
      event_id: "generated-id",
      event_timestamp: now,
    });
  });

  it("converts every timestamp form to epoch milliseconds", () => {
    for (const ts of [1_795_685_400, 1_795_685_400_000, "2026-11-26T09:30:00Z"]) {
      const identity = eventIdentity(EventInputSchema.parse({ ...minimal, event_timestamp: ts }), now, newId);
      expect(identity.event_timestamp).toBe(Date.UTC(2026, 10, 26, 9, 30, 0));
    }
  });
});
