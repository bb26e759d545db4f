/**
 * GET /ws/realtime?property=…: a live WebSocket held by the property's actor. Programs authenticate
 * with `Authorization: Bearer <key>`; browsers, which cannot set headers on WebSockets, first POST
 * /api/v1/realtime/token with their key and pass the short-lived `?token=`.
 */
import { Hono } from "hono";
import type { Config } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { readWsToken, signWsToken, wsTokenKey } from "../../core/property/ws-token.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import { credentialGate } from "../../platform/throttle.ts";
import { bearer, requirePropertyAccess } from "../auth.ts";

export const socketRoutes = new Hono<{ Bindings: Env }>();

// One derivation per parsed configuration (loadConfig caches one per env), not one per request.
const tokenKeys = new WeakMap<Config, Promise<CryptoKey | undefined>>();

function tokenKey(env: Env): Promise<CryptoKey | undefined> {
  const config = loadConfig(env);
  const cached = tokenKeys.get(config);
  if (cached) return cached;
  const key = wsTokenKey(config);
  tokenKeys.set(config, key);
  return key;
}

function propertyParam(value: string | undefined): string {
  if (!value) throw new AppError("invalid_request", 400, "property: query parameter is required");
  return value;
}

socketRoutes.post("/api/v1/realtime/token", async function realtimeToken(c) {
  const propertyId = propertyParam(c.req.query("property"));
  const access = await requirePropertyAccess(c, propertyId, "view");
  const key = await tokenKey(c.env);
  if (!key) throw new AppError("unavailable", 503, "WebSocket tokens need WS_TOKEN_SECRET or ADMIN_TOKEN to be set");
  // The token names the key that asked, so revoking that key ends its sockets and its reconnections.
  // People, shared links and public viewers mint as "admin": their sockets end when they close (#21 note).
  const minter = access.kind === "key" ? access.key_id : "admin";
  return c.json({ property_id: propertyId, ...(await signWsToken(key, propertyId, Date.now(), minter)) }, 201);
});

socketRoutes.get("/ws/realtime", async function realtimeSocket(c) {
  const propertyId = propertyParam(c.req.query("property"));
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket")
    throw new AppError("upgrade_required", 426, "Upgrade: websocket is required");
  const token = c.req.query("token");
  let viewer: string;
  let minter: string | undefined;
  if (token && !bearer(c)) {
    // A bad token counts as a failed authentication, as a bad key does (platform/throttle.ts).
    const gate = await credentialGate(c.env, c.req.raw);
    const key = await tokenKey(c.env);
    minter = key ? await readWsToken(key, token, propertyId, Date.now()) : undefined;
    if (!minter)
      throw await gate.fail(new AppError("unauthorized", 401, "token: is not valid for this property, or has expired"));
    viewer = "token";
  } else viewer = (await requirePropertyAccess(c, propertyId, "view")).kind === "key" ? "key" : "admin";
  if (!(await propertyConfig(c.env, propertyId)))
    throw new AppError("property_not_found", 404, `property ${propertyId} does not exist`);
  const headers = new Headers(c.req.raw.headers);
  headers.set("x-tally-property", propertyId);
  headers.set("x-tally-viewer", viewer);
  // Set or removed here, never the client's: the actor refuses a token whose key was revoked.
  if (minter) headers.set("x-tally-token-key", minter);
  else headers.delete("x-tally-token-key");
  return propertyStub(c.env, propertyId).fetch(new Request(c.req.url, { headers }));
});
