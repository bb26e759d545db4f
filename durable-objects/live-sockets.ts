/**
 * The PropertyDO's dashboards: hibernatable WebSockets that receive the realtime snapshot at most
 * once a second and only when it changed (live-push.ts). Per-connection state lives in attachments
 * and the last push in storage, so hibernation loses nothing.
 */
import { parseApiKey } from "../core/property/keys.ts";
import type { RealtimeSnapshot } from "../core/session/realtime.ts";
import { flushOpsMetrics, setGauge } from "../platform/ops-metrics.ts";
import { liveSnapshot } from "./live-windows.ts";
import { isActiveKeyId } from "./property-keys.ts";

export const MAX_SOCKETS = 1_000;
export const PUSH_INTERVAL_MS = 1_000;

/** Close codes a viewer sees when the server ends its socket (4000-4999: the application's own). */
export const CLOSE_KEY_REVOKED = 4001;
export const CLOSE_PROPERTY_DELETED = 4004;

export interface SocketAttachment {
  property_id: string;
  viewer: "key" | "admin" | "token";
  /**
   * The API key a viewer connected with, or that minted its token (its id, never the secret;
   * `admin` for a token the admin token minted); absent for admins.
   */
  key_id?: string;
  connected_at: number;
}

export function snapshotMessage(snapshot: RealtimeSnapshot): string {
  return JSON.stringify({ type: "snapshot", data: snapshot });
}

/** A fingerprint of what viewers see (the timestamp aside), to skip pushes that would change nothing. */
export function fingerprint(snapshot: RealtimeSnapshot): string {
  const { updated_at: _, ...rest } = snapshot;
  return JSON.stringify(rest);
}

/** Accepts a viewer's upgrade (the Worker has authenticated it and names the property) and sends the snapshot. */
export async function acceptViewer(ctx: DurableObjectState, request: Request): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
    return new Response("expected a WebSocket upgrade", { status: 426 });
  const propertyId = request.headers.get("x-tally-property") ?? "";
  if (ctx.getWebSockets().length >= MAX_SOCKETS) return new Response("too many live connections", { status: 429 });
  const viewer = (request.headers.get("x-tally-viewer") ?? "key") as SocketAttachment["viewer"];
  // The Worker forwards the Authorization it verified (a key viewer's key), or names the key that
  // minted a token viewer's token; a token outlives its key's revocation by up to a minute.
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  const keyId =
    viewer === "key" && bearer
      ? parseApiKey(bearer)?.key_id
      : viewer === "token"
        ? (request.headers.get("x-tally-token-key") ?? undefined)
        : undefined;
  if (viewer === "token" && keyId !== undefined && keyId !== "admin" && !(await isActiveKeyId(ctx.storage, keyId)))
    return new Response("the key that minted this token was revoked", { status: 401 });
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  ctx.acceptWebSocket(server, [propertyId]);
  const attachment: SocketAttachment = {
    property_id: propertyId,
    viewer,
    ...(keyId ? { key_id: keyId } : {}),
    connected_at: Date.now(),
  };
  server.serializeAttachment(attachment);
  // Heartbeats are answered by the runtime without waking the actor.
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  server.send(snapshotMessage(await liveSnapshot(ctx.storage, propertyId, Date.now())));
  reportViewers(ctx, propertyId);
  return new Response(null, { status: 101, webSocket: client });
}

/** Buckets the live_viewers gauge is labelled by (a hash of the property id, so no property is named). */
export const VIEWER_BUCKETS = 16;

/** FNV-1a of a property id: its gauge's bucket and source. */
function propertyHash(propertyId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < propertyId.length; i++) h = Math.imul(h ^ propertyId.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Reports this actor's open viewers as its share of the live_viewers gauge (`source`: the
 * property's hash, so the shares of every PropertyDO sum); `closing`: a socket closing now.
 */
export function reportViewers(ctx: DurableObjectState, propertyId: string, closing?: WebSocket): void {
  const open = ctx.getWebSockets().filter((ws) => ws !== closing).length;
  const hash = propertyHash(propertyId);
  setGauge("live_viewers", open, { bucket: String(hash % VIEWER_BUCKETS), source: hash.toString(16) });
}

/**
 * A viewer came or went: the gauge follows, and the isolate's metrics are written when due (an
 * actor's isolate may serve no request that would write them).
 */
export function viewersChanged(ctx: DurableObjectState, env: Env, leaving?: WebSocket): void {
  const attachment = leaving?.deserializeAttachment() as SocketAttachment | null | undefined;
  if (attachment) reportViewers(ctx, attachment.property_id, leaving);
  ctx.waitUntil(flushOpsMetrics(env).catch(() => undefined));
}

/** Sends the current snapshot to a viewer that asks for it with "snapshot"; ignores anything else. */
export async function answerViewer(
  storage: DurableObjectStorage,
  ws: WebSocket,
  message: string | ArrayBuffer,
): Promise<void> {
  if (message !== "snapshot") return;
  const { property_id } = ws.deserializeAttachment() as SocketAttachment;
  ws.send(snapshotMessage(await liveSnapshot(storage, property_id, Date.now())));
}

/**
 * Closes the sockets of a revoked key: those it opened and those opened with tokens it minted
 * (a socket opened before tokens named their key has no key_id, and closes too).
 */
export function closeRevokedViewers(ctx: DurableObjectState, keyId: string): number {
  return closeViewers(
    ctx,
    (a) => a.viewer !== "admin" && (a.key_id === undefined || a.key_id === keyId),
    CLOSE_KEY_REVOKED,
    "key revoked: connect again with an active key",
  );
}

/** Closes every viewer's socket (the property was deleted). */
export function closeAllViewers(ctx: DurableObjectState): number {
  return closeViewers(ctx, () => true, CLOSE_PROPERTY_DELETED, "property deleted");
}

function closeViewers(
  ctx: DurableObjectState,
  matches: (attachment: SocketAttachment) => boolean,
  code: number,
  reason: string,
): number {
  let closed = 0;
  for (const ws of ctx.getWebSockets()) {
    if (!matches(ws.deserializeAttachment() as SocketAttachment)) continue;
    try {
      ws.close(code, reason);
      closed++;
    } catch {
      // Already closing: the viewer is gone either way.
    }
  }
  return closed;
}
