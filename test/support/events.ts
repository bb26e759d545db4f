/** A complete accepted event for tests, with realistic enrichment; override what a test is about. */
import type { Event } from "../../core/event.ts";

export function makeEvent(overrides: Partial<Event> = {}): Event {
  return {
    property_id: "UA-DEMO-1",
    client_id: "c1",
    event_id: "e1",
    event_type: "pageview",
    event_timestamp: Date.UTC(2026, 10, 26, 9, 30),
    page_url: "https://example.com/",
    user_agent:
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    visitor_id_source: "client",
    source_protocol: "tally",
    interactive: true,
    browser: "Chrome",
    browser_version: "131",
    os: "Windows",
    os_version: "10",
    device_type: "desktop",
    country: "DE",
    region: "Berlin",
    city: "Berlin",
    continent: "EU",
    geo_timezone: "Europe/Berlin",
    asn: 3320,
    page_host: "example.com",
    page_path: "/",
    utm_source: "",
    utm_medium: "",
    utm_campaign: "",
    utm_term: "",
    utm_content: "",
    click_id_type: "",
    referrer_host: "",
    source: "",
    channel: "Direct",
    ip_prefix: "203.0.113.0",
    is_bot: false,
    bot_reason: "",
    ...overrides,
  };
}
