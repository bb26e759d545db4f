/**
 * Live dashboards over WebSockets held by the PropertyDO (hibernation API): a snapshot on connect,
 * a push after events (at most once a second, only when changed), surviving hibernation, and
 * authentication by key or short-lived token (keyed by WS_TOKEN_SECRET, else HKDF of ADMIN_TOKEN; a
 * short secret is a 500 naming it).
 */
import {
  createExecutionContext,
  evictDurableObject,
  runDurableObjectAlarm,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Event } from "../../core/event.ts";
import type { RealtimeSnapshot } from "../../core/session/realtime.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { app } from "../../workers/app.ts";
import { type CreatedProperty, call, consumeMessage, createProperty, envelope } from "./helpers.ts";

const PROPERTY = "UA-LIVE-1";
const run = crypto.randomUUID().slice(0, 8);
let property: CreatedProperty;
let n = 0;

const ev = (client: string): Event =>
  makeEvent({
    property_id: PROPERTY,
    event_id: `${run}-${++n}`,
    client_id: client,
    event_timestamp: Date.now() - 1000,
  });

async function deliver(events: Event[], id = `${run}-m${++n}`, attempts = 1) {
  await consumeMessage(id, events, attempts);
}

async function connect(query: string, headers: Record<string, string> = {}) {
  const res = await call(`/ws/realtime?property=${PROPERTY}${query}`, {
    headers: { Upgrade: "websocket", ...headers },
  });
  const ws = res.webSocket;
  const snapshots: RealtimeSnapshot[] = [];
  if (ws) {
    ws.accept();
    ws.addEventListener("message", (m) =>
      snapshots.push((JSON.parse(String(m.data)) as { data: RealtimeSnapshot }).data),
    );
  }
  return { res, ws, snapshots };
}

/** A request to the Worker under a copy of env with some variables changed (loadConfig parses each env once). */
async function callWith(
  vars: Partial<Record<"ADMIN_TOKEN" | "WS_TOKEN_SECRET", string>>,
  path: string,
  init: RequestInit,
) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://tally.test${path}`, init), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function issueToken(vars: Partial<Record<"ADMIN_TOKEN" | "WS_TOKEN_SECRET", string>>): Promise<string> {
  const res = await callWith(vars, `/api/v1/realtime/token?property=${PROPERTY}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${property.api_key}` },
  });
  expect(res.status).toBe(201);
  return (await res.json<{ token: string }>()).token;
}

beforeAll(async () => {
  property = await createProperty({ property_id: PROPERTY });
});

describe("GET /ws/realtime", () => {
  it("sends a snapshot on connect and pushes after events, throttled and only when changed, across hibernation", async () => {
    const { res, ws, snapshots } = await connect("", { Authorization: `Bearer ${property.api_key}` });
    expect(res.status).toBe(101);
    await vi.waitFor(() => expect(snapshots).toHaveLength(1));
    expect(snapshots[0]).toMatchObject({ property_id: PROPERTY, pageviews_last_30m: 0 });

    const first = ev("v1");
    await deliver([first]);
    await vi.waitFor(() => expect(snapshots.at(-1)?.pageviews_last_30m).toBe(1));

    const stub = env.PROPERTY_DO.getByName(PROPERTY);
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await deliver([ev("v2"), ev("v3")]);
    // Within a second of the last push: held back until the alarm, then sent.
    await runDurableObjectAlarm(stub);
    await vi.waitFor(() => expect(snapshots.at(-1)).toMatchObject({ pageviews_last_30m: 3, active_visitors: 3 }));

    const count = snapshots.length;
    // The same event again (a client retry): nothing changes, so nothing is pushed.
    await deliver([first], `${run}-again`);
    await runDurableObjectAlarm(stub);
    await new Promise((r) => setTimeout(r, 50));
    expect(snapshots).toHaveLength(count);
    ws?.close();
  });

  it("accepts a short-lived token from POST /api/v1/realtime/token, for browsers", async () => {
    const tokenRes = await call(`/api/v1/realtime/token?property=${PROPERTY}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${property.api_key}` },
    });
    expect(tokenRes.status).toBe(201);
    const { token } = await tokenRes.json<{ token: string }>();
    const { res, ws, snapshots } = await connect(`&token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(101);
    await vi.waitFor(() => expect(snapshots).toHaveLength(1));
    ws?.close();
  });

  it("refuses missing, bad and foreign credentials, and plain requests", async () => {
    expect((await connect("")).res.status).toBe(401);
    expect((await connect("&token=abc.123.def")).res.status).toBe(401);
    const other = await createProperty({ property_id: "UA-LIVE-2" });
    expect((await connect("", { Authorization: `Bearer ${other.api_key}` })).res.status).toBe(403);
    expect(
      (await call(`/ws/realtime?property=${PROPERTY}`, { headers: { Authorization: `Bearer ${property.api_key}` } }))
        .status,
    ).toBe(426);
  });

  it("keys tokens by WS_TOKEN_SECRET when set: such a token opens the socket only under that secret", async () => {
    const secret = "wss_0123456789abcdef0123456789abcdef";
    const token = await issueToken({ WS_TOKEN_SECRET: secret });
    const open = (vars: Partial<Record<"WS_TOKEN_SECRET", string>>) =>
      callWith(vars, `/ws/realtime?property=${PROPERTY}&token=${encodeURIComponent(token)}`, {
        headers: { Upgrade: "websocket" },
      });
    const opened = await open({ WS_TOKEN_SECRET: secret });
    expect(opened.status).toBe(101);
    opened.webSocket?.accept();
    opened.webSocket?.close();
    expect((await open({})).status).toBe(401);
    expect((await open({ WS_TOKEN_SECRET: `${secret}0` })).status).toBe(401);
    // And the other way: a token from the key derived from ADMIN_TOKEN is refused once a secret is set.
    const derived = await issueToken({});
    const res = await callWith({ WS_TOKEN_SECRET: secret }, `/ws/realtime?property=${PROPERTY}&token=${derived}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(res.status).toBe(401);
  });

  it.each([
    ["ADMIN_TOKEN", { ADMIN_TOKEN: "adm_short" }],
    ["WS_TOKEN_SECRET", { WS_TOKEN_SECRET: "wss_short" }],
  ])("answers 500 misconfigured naming %s when it is shorter than 32 characters", async (name, vars) => {
    const res = await callWith(vars, `/api/v1/realtime/token?property=${PROPERTY}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${property.api_key}` },
    });
    expect(res.status).toBe(500);
    const { error } = await envelope(res);
    expect(error.code).toBe("misconfigured");
    expect(error.message).toContain(`${name}: must be at least 32 random characters`);
  });
});
