/**
 * The fuzz suite, reduced for `npm test`: seeded hostile requests against every public route of
 * test/support/fuzz-routes.ts (mutated valid requests, malformed and oversized bodies, lying
 * headers, foreign and broken credentials, sockets). Every answer is below 500 and every refusal
 * is the error envelope; every event the edge queued is a valid event of a property this file
 * created, and the real consumer stores all of them. bench/fuzz.ts runs the same generator over
 * ≥ 100,000 cases. A failure names the case (seed, index, request).
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { toArchiveRecord } from "../../core/archive/layout.ts";
import { decodeArchiveFile, encodeArchiveFile } from "../../core/archive/parquet.ts";
import { EventsMessageSchema } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { TEST_ADMIN_TOKEN } from "../support/admin.ts";
import { type FuzzContext, FuzzTally, hostileCase, judge, toRequest } from "../support/fuzz-cases.ts";
import { fuzzAssets, hostileValue, seededRng, toJsonText } from "../support/fuzz-inputs.ts";
import { controlCharFields, KNOWN_CONTROL_CHAR_FIELDS, knownBug } from "../support/fuzz-known.ts";
import { ROUTES, type Tenant } from "../support/fuzz-routes.ts";
import { consumeMessages, createProperty } from "./helpers.ts";

const CASES_PER_ROUTE = 100;
const SEED = 0x5eed17;
const run = crypto.randomUUID().slice(0, 8);

let ctx: FuzzContext;
const tally = new FuzzTally();
const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");

const tenant = (name: string): Promise<Tenant> =>
  createProperty({ property_id: `FZ-${run}-${name}`, domains: [`${name.toLowerCase()}-${run}.fuzz.example`] });

beforeAll(async () => {
  const [a, b, scratch] = [await tenant("A"), await tenant("B"), await tenant("S")];
  ctx = { a, b, scratch, adminToken: TEST_ADMIN_TOKEN, assets: await fuzzAssets() };
});

/** Routes whose valid request cannot succeed here by design: jobs are never started, so none has run; and: */
const NEVER_2XX = new Set([
  "POST /api/v1/admin/replay",
  "GET /api/v1/admin/replay",
  "POST /api/v1/admin/warehouse/load",
  "GET /api/v1/admin/warehouse/load",
  "GET /api/v1/properties/:id/erasures/:erasure",
  // Need what the fuzzer does not make: a webhook in the rules (409 without), a dead letter (404).
  "POST /api/v1/properties/:id/alert-rules/rotate-secret",
  "POST /api/v1/properties/:id/alert-rules/test",
  "GET /api/v1/ops/dead-letters/:id",
  "POST /api/v1/ops/dead-letters/:id/replay",
  "DELETE /api/v1/ops/dead-letters/:id",
  // The team's (#21): what their valid request names is never made here — a session, an invitation,
  // a shared link, a saved item, an annotation, a digest, a signed unsubscribe link, a member — or,
  // for the people routes that change things, only a person or the admin token may (keys are refused).
  "POST /api/v1/auth/sign-in",
  "POST /api/v1/auth/sign-out-everywhere",
  "GET /api/v1/auth/me",
  "GET /api/v1/invitations/:id/:token",
  "POST /api/v1/invitations/accept",
  "POST /api/v1/shares/unlock",
  "POST /api/v1/properties/:id/invitations",
  "DELETE /api/v1/properties/:id/invitations/:invitationId",
  "PATCH /api/v1/properties/:id/members/:email",
  "DELETE /api/v1/properties/:id/members/:email",
  "POST /api/v1/properties/:id/shares",
  "DELETE /api/v1/properties/:id/shares/:shareId",
  "PUT /api/v1/properties/:id/saved/:itemId",
  "DELETE /api/v1/properties/:id/saved/:itemId",
  "DELETE /api/v1/properties/:id/annotations/:annotationId",
  "DELETE /api/v1/properties/:id/digests/:digestId",
  "POST /api/v1/properties/:id/digests/:digestId/send",
  "GET /api/v1/digests/unsubscribe",
  "POST /api/v1/digests/unsubscribe",
]);

describe("hostile requests to every public route", () => {
  for (const [index, route] of ROUTES.entries()) {
    it(`${route.name}: ${CASES_PER_ROUTE} hostile requests get < 500 and refusals in the envelope`, async () => {
      const r = seededRng(SEED + index);
      for (let i = 0; i < CASES_PER_ROUTE; i++) {
        const c = hostileCase(r, route, ctx, i);
        // Many client addresses, so per-address limits (ingest, auth failures) do not refuse the rest of the run.
        c.headers["CF-Connecting-IP"] ??= `198.51.100.${(index * CASES_PER_ROUTE + i) % 250}`;
        const verdict = await judge(route, await exports.default.fetch(toRequest("http://tally.test", c)));
        const known = knownBug(c, verdict.status) !== undefined;
        tally.add(route.name, known ? { status: verdict.status } : verdict, `seed ${SEED + index} ${c.label}`);
      }
      expect(tally.problemsOf(route.name)).toEqual([]);
      // The generator reaches past validation: some of its requests succeed.
      if (!NEVER_2XX.has(route.name))
        expect(tally.count(route.name, "2xx") + tally.count(route.name, "1xx")).toBeGreaterThan(0);
    }, 180_000);
  }

  it("queued only valid events of this file's properties, and the consumer stores every one", async () => {
    const ours = new Set([ctx.a.property_id, ctx.b.property_id, ctx.scratch.property_id]);
    const sent = send.mock.calls.flatMap(([batch]) => [...batch]);
    expect(sent.length).toBeGreaterThan(0);
    const messages = sent.map((m, i) => {
      expect(m.contentType).toBe("text");
      const parsed = EventsMessageSchema.safeParse(JSON.parse(String(m.body)));
      expect(parsed.error?.issues, `queued message ${i}`).toBeUndefined();
      return { id: `fuzz-${run}-${i}`, events: parsed.data?.events ?? [] };
    });
    const strangers = messages.flatMap((m) => m.events.filter((e) => !ours.has(e.property_id)));
    expect(strangers.map((e) => e.property_id)).toEqual([]);
    // Control characters are refused in what clients send; none may appear in what the edge derives.
    const controls = messages.flatMap((m) =>
      m.events.flatMap((e) => controlCharFields(e).filter((f) => !KNOWN_CONTROL_CHAR_FIELDS.has(f))),
    );
    expect(controls).toEqual([]);
    // Accepted means storable: an event ClickHouse or the archive refused would be lost.
    for (let i = 0; i < messages.length; i += 50) {
      const result = await consumeMessages(messages.slice(i, i + 50));
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(Math.min(50, messages.length - i));
    }
  }, 180_000);
});

describe("a live socket under hostile messages", () => {
  it("ignores 300 hostile messages (text, binary, 100 KB) and still answers a snapshot request", async () => {
    const res = await exports.default.fetch(
      new Request(`http://tally.test/ws/realtime?property=${ctx.a.property_id}`, {
        headers: {
          Upgrade: "websocket",
          Authorization: `Bearer ${ctx.a.api_key}`,
          "CF-Connecting-IP": "198.51.100.253",
        },
      }),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (!ws) throw new Error("no socket");
    const received: string[] = [];
    ws.accept();
    ws.addEventListener("message", (m) => received.push(String(m.data)));
    await vi.waitFor(() => expect(received).toHaveLength(1));
    const r = seededRng(SEED - 1);
    for (let i = 0; i < 300; i++) {
      const x = r.next();
      if (x < 0.6) ws.send(toJsonText(hostileValue(r)));
      else if (x < 0.8) ws.send(Uint8Array.from({ length: r.int(2000) }, () => r.int(256)));
      else if (x < 0.9) ws.send("x".repeat(100_000));
      else ws.send(r.pick(["Snapshot", "snapshot ", "\u0000", "", '{"type":"snapshot"}']));
    }
    ws.send("snapshot");
    // The actor answers in order, after the 300 before it: a bound for a loaded machine, not a measurement.
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(2), { timeout: 60_000 });
    expect(JSON.parse(received.at(-1) ?? "")).toMatchObject({ data: { property_id: ctx.a.property_id } });
    ws.close(1000, "done");
  }, 90_000);
});

describe("what the fuzzer found, fixed", () => {
  it.each([
    ["2026-13-40", "is not a calendar date"],
    ["2026-02-30", "is not a calendar date"],
    ["9999-12-31", "must be between 1970-01-01 and 9999-12-30"],
  ])("data-quality answers 400 for to=%s (an invalid Date, a year PostgreSQL refuses: were 500s)", async (to, why) => {
    const res = await exports.default.fetch(
      new Request(`http://tally.test/api/v1/data-quality?property_id=${ctx.a.property_id}&from=2026-01-01&to=${to}`, {
        headers: { Authorization: `Bearer ${ctx.a.api_key}`, "CF-Connecting-IP": "198.51.100.252" },
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "invalid_request", message: `to: ${why}`, status: 400 } });
  });
});

describe("what the fuzzer found in the archive, fixed", () => {
  it('a leading U+FEFF survives the archive: event_type "\\ufeff" came back as "" (an invalid event)', async () => {
    const event = makeEvent({
      property_id: ctx.a.property_id,
      event_type: "\ufeff",
      client_id: "\ufeffvisitor",
      utm_source: "\ufeffnews",
      custom_dimensions: { plan: "\ufeffpro" },
    });
    const [back] = await decodeArchiveFile(encodeArchiveFile([toArchiveRecord(event, 1)], zstdCodec), zstdCodec);
    expect(back).toEqual(toArchiveRecord(event, 1));
  });
});

describe("what the fuzzer found at the edge, fixed", () => {
  it.each(["https://example.com/p\u0007q", "https://example.com/\u001b[31m"])(
    "an event whose page_url holds a raw control character (%j) is refused naming page_url (it was stored as sent)",
    async (url) => {
      const res = await exports.default.fetch(
        new Request("http://tally.test/collect", {
          method: "POST",
          headers: { "CF-Connecting-IP": "198.51.100.248" },
          body: JSON.stringify({
            property_id: ctx.a.property_id,
            client_id: "ctl",
            event_type: "pageview",
            page_url: url.replace("example.com", ctx.a.domains[0] ?? ""),
          }),
        }),
      );
      expect(res.status).toBe(400);
      expect((await res.json<{ error: { message: string } }>()).error.message).toContain(
        "page_url: must not contain control characters",
      );
    },
  );
});

describe("what the fuzzer found in the warehouse load, fixed", () => {
  it("a backfill from 2026-13-40 is a 400 naming from (its calendar check threw: a 500)", async () => {
    const res = await exports.default.fetch(
      new Request("http://tally.test/api/v1/admin/warehouse/load", {
        method: "POST",
        headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ from: "2026-13-40", to: "2026-01-01", property: ctx.scratch.property_id }),
      }),
    );
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { message: string } }>()).error.message).toMatch(/^from: must be a calendar date/);
  });
});

describe("bugs the fuzz suite found, fixed", () => {
  it("import answers 400 for a line whose property_id is an object with its own toString", async () => {
    const line = JSON.stringify({
      property_id: { toString: {} },
      client_id: "c",
      event_type: "pageview",
      page_url: `https://${ctx.a.domains[0]}/`,
    });
    const res = await exports.default.fetch(
      new Request(`http://tally.test/api/v1/import?property=${ctx.a.property_id}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ctx.a.api_key}`, "CF-Connecting-IP": "198.51.100.251" },
        body: line,
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 0, rejected: 1 });
  });

  it("a page URL with utm_source=%00 is queued without the NUL (PostgreSQL refuses it)", async () => {
    const before = send.mock.calls.length;
    const res = await exports.default.fetch(
      new Request("http://tally.test/collect", {
        method: "POST",
        headers: { "CF-Connecting-IP": "198.51.100.249", "User-Agent": "Mozilla/5.0" },
        body: JSON.stringify({
          property_id: ctx.a.property_id,
          client_id: "nul-visitor",
          event_type: "pageview",
          page_url: `https://${ctx.a.domains[0]}/?utm_source=a%00b`,
        }),
      }),
    );
    expect(res.status).toBe(202);
    const events = send.mock.calls
      .slice(before)
      .flatMap(([batch]) => [...batch].flatMap((m) => EventsMessageSchema.parse(JSON.parse(String(m.body))).events));
    expect(events).toHaveLength(1);
    expect(events.flatMap((e) => controlCharFields(e))).toEqual([]);
  });

  it("a report ending 9999-12-31 is a 4xx naming end, not a 500", async () => {
    const res = await exports.default.fetch(
      new Request(
        `http://tally.test/api/v1/reports?property=${ctx.a.property_id}&report=countries&start=2026-05-11&end=9999-12-31`,
        { headers: { Authorization: `Bearer ${ctx.a.api_key}`, "CF-Connecting-IP": "198.51.100.254" } },
      ),
    );
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { message: string } }>()).error.message).toContain("end");
  });
});
