/** POST /api/v1/import in workerd: NDJSON history, streamed, with per-line errors and key scoping. */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN, type CreatedProperty, call, createProperty, envelope, sentMessage } from "./helpers.ts";

let property: CreatedProperty;
let other: CreatedProperty;
const DAY_MS = 86_400_000;
/** Line n's time: noon, 30 to 270 whole days back (inside the 730-day retention). */
const lineTime = (n: number) => (Math.floor(Date.now() / DAY_MS) - 30 * ((n % 9) + 1)) * DAY_MS + 12 * 3_600_000;
const line = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    client_id: `v${n % 7}`,
    event_type: "pageview",
    page_url: `https://example.com/p/${n}`,
    event_timestamp: new Date(lineTime(n)).toISOString(),
    ...extra,
  });

function importBody(body: BodyInit, key: string, property_id = "UA-IMPORT-1") {
  return call(`/api/v1/import?property=${property_id}`, {
    method: "POST",
    body,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-ndjson" },
  });
}

function watchQueue() {
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  return () => send.mock.calls.flatMap(([batch]) => [...batch].flatMap((m) => sentMessage(m).events));
}

beforeAll(async () => {
  property = await createProperty({ property_id: "UA-IMPORT-1" });
  other = await createProperty({ property_id: "UA-IMPORT-2" });
});
afterEach(() => vi.restoreAllMocks());

describe("POST /api/v1/import", () => {
  it("imports old history with geography from the body, and no request facts", async () => {
    const sent = watchQueue();
    const res = await importBody(
      `${line(1, { country: "fr", city: "Lyon", user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0" })}\n${line(2)}\n`,
      property.api_key,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ property_id: "UA-IMPORT-1", accepted: 2, rejected: 0, errors: [] });
    const [a, b] = sent();
    expect(a).toMatchObject({
      event_timestamp: lineTime(1),
      country: "FR",
      city: "Lyon",
      browser: "Firefox",
      source_protocol: "import",
      ip_prefix: "",
      is_bot: false,
    });
    expect(b?.user_agent).toBeUndefined();
    expect(b).toMatchObject({ country: "", is_bot: false, bot_reason: "" });
  });

  it("refuses a line older than the retention period, which every store would delete at once", async () => {
    const sent = watchQueue();
    const old = new Date(Date.now() - 731 * DAY_MS).toISOString();
    const res = await importBody(`${line(1)}\n${line(2, { event_timestamp: old })}\n`, property.api_key);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      accepted: 1,
      rejected: 1,
      errors: [
        {
          line: 2,
          code: "timestamp_out_of_range",
          message: "line 2.event_timestamp: is older than the 730-day retention period (ARCHIVE_RETENTION_DAYS)",
        },
      ],
    });
    expect(sent()).toHaveLength(1);
  });

  it("streams thousands of lines in chunks, naming each bad line", async () => {
    const sent = watchQueue();
    const lines = Array.from({ length: 1_200 }, (_, i) =>
      i === 10 ? "{not json" : i === 20 ? line(i, { page_url: "ftp://x" }) : line(i),
    );
    const stream = new Blob([`${lines.join("\n")}\n`]).stream();
    const res = await importBody(stream, property.api_key);
    expect(res.status).toBe(200);
    const body = await res.json<{
      accepted: number;
      rejected: number;
      errors: { line: number; code: string; message: string }[];
    }>();
    expect(body).toMatchObject({ accepted: 1_198, rejected: 2 });
    expect(body.errors).toEqual([
      { line: 11, code: "invalid_json", message: "line 11: is not valid JSON" },
      { line: 21, code: "invalid_event", message: "line 21.page_url: must be an absolute http(s) URL" },
    ]);
    expect(sent()).toHaveLength(1_198);
  });

  it("requires client_id and refuses lines for another property", async () => {
    const res = await importBody(
      `${line(1, { client_id: undefined })}\n${line(2, { property_id: "UA-IMPORT-2" })}\n`,
      property.api_key,
    );
    const body = await res.json<{ errors: { message: string }[] }>();
    expect(body.errors.map((e) => e.message)).toEqual([
      "line 1.client_id: is required for import",
      "line 2.property_id: is UA-IMPORT-2, but this import is for UA-IMPORT-1",
    ]);
  });

  it("scopes keys to their property: 401 without a key, 403 with another property's key; the admin token works for all", async () => {
    expect((await call("/api/v1/import?property=UA-IMPORT-1", { method: "POST", body: line(1) })).status).toBe(401);
    const foreign = await importBody(line(1), other.api_key);
    expect(foreign.status).toBe(403);
    expect((await envelope(foreign)).error.code).toBe("forbidden");
    expect((await importBody(line(1), ADMIN.Authorization.slice(7))).status).toBe(200);
  });

  it("refuses a line over 32 KB with 413", async () => {
    const res = await importBody(line(1, { page_title: "x".repeat(40_000) }), property.api_key);
    expect(res.status).toBe(413);
  });
});
