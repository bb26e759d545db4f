/** Drop-in protocols in workerd, with each protocol's documented payloads. */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type CreatedProperty, call, createProperty, envelope, sentMessage } from "./helpers.ts";

const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
const UMAMI_ID = "4fb7fa4c-5b46-438d-94b3-3a8fb9bc2e8b";
let ga: CreatedProperty;

function watchQueue() {
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  return () => send.mock.calls.flatMap(([batch]) => [...batch].flatMap((m) => sentMessage(m).events));
}

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "User-Agent": UA, ...headers },
  });
}

beforeAll(async () => {
  await createProperty({ property_id: "PL-SITE-1", domains: ["dummy.site"] });
  await createProperty({ property_id: "PL-SITE-2", domains: ["other.site"] });
  ga = await createProperty({ property_id: "G-ABC123XYZ", domains: ["shop.example"] });
  await createProperty({ property_id: UMAMI_ID, domains: ["umami.example"] });
});
afterEach(() => vi.restoreAllMocks());

describe("Plausible POST /api/event", () => {
  it("takes the documented long form as text/plain and answers 202 {}", async () => {
    const sent = watchQueue();
    const res = await post(
      "/api/event",
      '{"name":"pageview","url":"http://dummy.site/blog?x=1","domain":"dummy.site"}',
      { "Content-Type": "text/plain" },
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({});
    expect(sent()).toEqual([
      expect.objectContaining({
        property_id: "PL-SITE-1",
        event_type: "pageview",
        page_path: "/blog",
        source_protocol: "plausible",
        visitor_id_source: "cookieless",
        interactive: true,
      }),
    ]);
  });

  it("maps the tracker's short keys: props (as a JSON string), revenue, interactive, hash mode, referrer", async () => {
    const sent = watchQueue();
    const res = await post("/api/event", {
      n: "Purchase",
      u: "https://dummy.site/#/checkout",
      d: "dummy.site",
      r: "https://news.ycombinator.com/",
      p: JSON.stringify({ plan: "pro", seats: 3, nested: { no: 1 } }),
      $: { currency: "eur", amount: "49.90" },
      i: false,
      h: 1,
    });
    expect(res.status).toBe(202);
    expect(sent()[0]).toMatchObject({
      event_type: "Purchase",
      page_path: "/#/checkout",
      source: "Hacker News",
      interactive: false,
      custom_dimensions: { plan: "pro", currency: "EUR" },
      custom_metrics: { seats: 3, revenue: 49.9 },
    });
  });

  it("fans a comma list of domains out to each site", async () => {
    const sent = watchQueue();
    await post("/api/event", { n: "pageview", u: "https://dummy.site/", d: "dummy.site,other.site" });
    expect(
      sent()
        .map((e) => e.property_id)
        .sort(),
    ).toEqual(["PL-SITE-1", "PL-SITE-2"]);
  });

  it("keeps engagement events' scroll depth and engaged time", async () => {
    const sent = watchQueue();
    await post("/api/event", { n: "engagement", u: "https://dummy.site/", d: "dummy.site", sd: 80, e: 12000 });
    expect(sent()[0]?.custom_metrics).toEqual({ scroll_depth: 80, engaged_ms: 12000 });
  });

  it("names the problem: missing User-Agent, bad url, unknown domain", async () => {
    const noUa = await call("/api/event", {
      method: "POST",
      body: JSON.stringify({ n: "pageview", u: "https://dummy.site/", d: "dummy.site" }),
    });
    expect((await envelope(noUa)).error.message).toBe("User-Agent: header is required");
    const badUrl = await post("/api/event", { n: "pageview", u: "data:text/html,x", d: "dummy.site" });
    expect(badUrl.status).toBe(400);
    expect((await envelope(badUrl)).error.message).toContain("page_url: must be an absolute http(s) URL");
    const unknown = await post("/api/event", { n: "pageview", u: "https://nobody.site/", d: "nobody.site" });
    expect(unknown.status).toBe(404);
  });
});

describe("GA4 Measurement Protocol POST /mp/collect", () => {
  const payload = {
    client_id: "123456.7654321",
    user_id: "u-1",
    events: [
      {
        name: "page_view",
        params: {
          page_location: "https://shop.example/p/1",
          page_title: "P1",
          session_id: "1700000000",
          engagement_time_msec: 100,
        },
      },
      { name: "purchase", params: { currency: "USD", value: 30.5, transaction_id: "T-1" } },
    ],
  };

  it("maps events and params and answers 204, as GA does", async () => {
    const sent = watchQueue();
    const res = await post(`/mp/collect?measurement_id=G-ABC123XYZ&api_secret=${ga.mp_api_secret}`, payload);
    expect(res.status).toBe(204);
    const [view, purchase] = sent();
    expect(view).toMatchObject({
      event_type: "pageview",
      client_id: "123456.7654321",
      user_id: "u-1",
      page_url: "https://shop.example/p/1",
      page_title: "P1",
      source_protocol: "ga4",
      custom_dimensions: { ga_session_id: "1700000000" },
      custom_metrics: { engagement_time_msec: 100 },
    });
    expect(purchase).toMatchObject({
      event_type: "purchase",
      page_url: "https://shop.example/",
      custom_dimensions: { currency: "USD", transaction_id: "T-1" },
      custom_metrics: { value: 30.5 },
    });
  });

  it("back-dates events with timestamp_micros within 72 hours", async () => {
    const sent = watchQueue();
    const ts = Date.now() - 48 * 3600_000;
    await post(`/mp/collect?measurement_id=G-ABC123XYZ&api_secret=${ga.mp_api_secret}`, {
      ...payload,
      timestamp_micros: ts * 1000,
    });
    expect(sent()[0]?.event_timestamp).toBe(ts);
  });

  it("refuses a wrong api_secret with 403 and a missing one with 400", async () => {
    expect((await post("/mp/collect?measurement_id=G-ABC123XYZ&api_secret=nope", payload)).status).toBe(403);
    expect((await post("/mp/collect?measurement_id=G-ABC123XYZ", payload)).status).toBe(400);
  });

  it("enforces GA's limits: 25 events, names of 40 characters", async () => {
    const many = { client_id: "c", events: Array.from({ length: 26 }, () => ({ name: "e" })) };
    const res = await post(`/mp/collect?measurement_id=G-ABC123XYZ&api_secret=${ga.mp_api_secret}`, many);
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toContain("events: must have at most 25 events");
  });

  it("answers /debug/mp/collect with validationMessages, as GA does", async () => {
    const res = await post(`/debug/mp/collect?measurement_id=G-ABC123XYZ&api_secret=${ga.mp_api_secret}`, {
      client_id: "c",
      events: [{ name: "1bad" }],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      validationMessages: [expect.objectContaining({ fieldPath: "events[0].name" })],
    });
  });
});

describe("Umami POST /api/send", () => {
  const payload = (extra: Record<string, unknown> = {}) => ({
    type: "event",
    payload: {
      website: UMAMI_ID,
      hostname: "umami.example",
      url: "/docs?ref=x",
      referrer: "https://www.bing.com/",
      title: "Docs",
      screen: "1920x1080",
      language: "en-US",
      ...extra,
    },
  });

  it("maps a pageview and answers 200 with session and visit ids", async () => {
    const sent = watchQueue();
    const res = await post("/api/send", payload());
    expect(res.status).toBe(200);
    const body = await res.json<{ sessionId: string; visitId: string }>();
    const [e] = sent();
    expect(e).toMatchObject({
      property_id: UMAMI_ID,
      event_type: "pageview",
      page_url: "https://umami.example/docs",
      page_path: "/docs",
      source: "Bing",
      screen_resolution: "1920x1080",
      language: "en-US",
      source_protocol: "umami",
    });
    expect(body).toEqual({ cache: "", sessionId: e?.client_id, visitId: e?.event_id });
  });

  it("maps a custom event with data", async () => {
    const sent = watchQueue();
    await post("/api/send", payload({ name: "signup", data: { plan: "team", seats: 5 } }));
    expect(sent()[0]).toMatchObject({
      event_type: "signup",
      custom_dimensions: { plan: "team" },
      custom_metrics: { seats: 5 },
    });
  });

  it('answers bots {"beep":"boop"} as Umami does, while keeping the hit flagged', async () => {
    const sent = watchQueue();
    const res = await post("/api/send", payload(), {
      "User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    });
    expect(await res.json()).toEqual({ beep: "boop" });
    expect(sent()[0]).toMatchObject({ is_bot: true, bot_reason: "ua_crawler" });
  });

  it("names the bad field", async () => {
    const res = await post("/api/send", { type: "event", payload: { hostname: "umami.example" } });
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toBe("payload.website: is required");
  });
});
