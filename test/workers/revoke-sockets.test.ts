/**
 * Revoking an API key closes the live sockets it opened: the key's own sockets and those opened with
 * tokens it minted (a token names its key), with close code 4001 and a reason, and such a token opens
 * nothing afterwards; other keys' sockets and tokens, and the admin's, stay open, across hibernation.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CLOSE_KEY_REVOKED } from "../../durable-objects/live-sockets.ts";
import { ADMIN, type CreatedProperty, call, createProperty } from "./helpers.ts";

const PROPERTY = "UA-REVOKE-1";
let property: CreatedProperty;
let second: { key_id: string; api_key: string };

interface Viewer {
  ws: WebSocket;
  closed: { code: number; reason: string }[];
  messages: number;
}

async function connect(query: string, headers: Record<string, string> = {}): Promise<Viewer> {
  const res = await call(`/ws/realtime?property=${PROPERTY}${query}`, {
    headers: { Upgrade: "websocket", ...headers },
  });
  const ws = res.webSocket;
  if (!ws) throw new Error(`no socket: ${res.status} ${await res.text()}`);
  const viewer: Viewer = { ws, closed: [], messages: 0 };
  ws.accept();
  ws.addEventListener("message", () => {
    viewer.messages++;
  });
  ws.addEventListener("close", (e) => {
    viewer.closed.push({ code: e.code, reason: e.reason });
  });
  await vi.waitFor(() => expect(viewer.messages).toBe(1));
  return viewer;
}

const byKey = (apiKey: string) => connect("", { Authorization: `Bearer ${apiKey}` });

async function mint(bearer: string): Promise<string> {
  const res = await call(`/api/v1/realtime/token?property=${PROPERTY}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${bearer}` },
  });
  return (await res.json<{ token: string }>()).token;
}

const byToken = async (bearer: string) => connect(`&token=${encodeURIComponent(await mint(bearer))}`);

const revoke = (keyId: string) =>
  call(`/api/v1/properties/${PROPERTY}/keys/${keyId}`, { method: "DELETE", headers: ADMIN });

beforeAll(async () => {
  property = await createProperty({ property_id: PROPERTY });
  const res = await call(`/api/v1/properties/${PROPERTY}/keys`, {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ label: "second" }),
  });
  second = await res.json();
});

describe("revoking a key", () => {
  it("closes the key's sockets and its tokens' sockets with 4001, leaving other keys', their tokens' and the admin's open", async () => {
    const revoked = await byKey(property.api_key);
    const revokedToken = await mint(property.api_key);
    const token = await connect(`&token=${encodeURIComponent(revokedToken)}`);
    const other = await byKey(second.api_key);
    const otherToken = await byToken(second.api_key);
    const admin = await connect("", ADMIN);
    const adminToken = await byToken(ADMIN.Authorization.slice("Bearer ".length));
    // Which key opened a socket is in its attachment, so it survives the actor hibernating.
    await evictDurableObject(env.PROPERTY_DO.getByName(PROPERTY), { webSockets: "hibernate" });

    expect((await revoke(property.key_id)).status).toBe(200);
    const closed = [{ code: CLOSE_KEY_REVOKED, reason: "key revoked: connect again with an active key" }];
    await vi.waitFor(() => {
      expect(revoked.closed).toEqual(closed);
      expect(token.closed).toEqual(closed);
    });

    // The others still answer: each asks for a snapshot and gets one.
    for (const viewer of [other, otherToken, admin, adminToken]) {
      viewer.ws.send("snapshot");
      await vi.waitFor(() => expect(viewer.messages).toBe(2));
      expect(viewer.closed).toEqual([]);
    }
    const again = await call(`/ws/realtime?property=${PROPERTY}`, {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${property.api_key}` },
    });
    expect([401, 403]).toContain(again.status);
    // The revoked key's token is still signed and unexpired, but opens nothing now.
    const reopened = await call(`/ws/realtime?property=${PROPERTY}&token=${encodeURIComponent(revokedToken)}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(reopened.status).toBe(401);
    for (const viewer of [other, otherToken, admin, adminToken]) viewer.ws.close();
  });

  it("closes nothing when the key was not active", async () => {
    const other = await byKey(second.api_key);
    expect((await revoke(property.key_id)).status).toBe(404);
    const stub = env.PROPERTY_DO.getByName(PROPERTY);
    expect(await stub.revokeKey("00000000", Date.now())).toBe(false);
    other.ws.send("snapshot");
    await vi.waitFor(() => expect(other.messages).toBe(2));
    expect(other.closed).toEqual([]);
    other.ws.close();
  });
});
