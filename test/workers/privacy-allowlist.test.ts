/**
 * The per-property query-parameter allowlist and the raw-UA period reach the pipeline: a listed
 * parameter survives /collect, and an import older than RAW_USER_AGENT_DAYS keeps no raw user agent.
 */
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import { ADMIN, call, createProperty, sentMessage } from "./helpers.ts";

it("keeps the property's listed query parameters and drops old events' raw user agents", async () => {
  await createProperty({ property_id: "AL-1", domains: ["example.com"], privacy: { query_params: ["q"] } });
  const patch = await call("/api/v1/properties/AL-1", {
    method: "PATCH",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ privacy: { respect_dnt: true } }),
  });
  expect(patch.status).toBe(200);
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  const res = await call("/collect", {
    method: "POST",
    headers: { "User-Agent": "Mozilla/5.0 Firefox/133.0" },
    body: JSON.stringify({
      events: [
        {
          property_id: "AL-1",
          client_id: "c",
          event_type: "pageview",
          page_url: "https://example.com/s?q=shoes&token=x",
        },
      ],
    }),
  });
  expect(res.status).toBe(202);
  const key = (
    await (await call("/api/v1/properties/AL-1/keys", { method: "POST", headers: ADMIN })).json<{ api_key: string }>()
  ).api_key;
  const imp = await call("/api/v1/import?property=AL-1", {
    method: "POST",
    headers: { Authorization: `Bearer ${key}` },
    body: `${JSON.stringify({
      client_id: "c",
      event_type: "pageview",
      page_url: "https://example.com/",
      user_agent: "Mozilla/5.0 Firefox/133.0",
      event_timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString(),
    })}\n`,
  });
  expect(imp.status).toBe(200);
  const events = send.mock.calls.flatMap(([b]) => [...b].flatMap((m) => sentMessage(m).events));
  expect(events.map((e) => [e.page_url, e.user_agent])).toEqual([
    ["https://example.com/s?q=shoes", "Mozilla/5.0 Firefox/133.0"],
    ["https://example.com/", undefined],
  ]);
});
