/**
 * The PropertyDO's dashboards: hibernatable WebSockets that receive the realtime snapshot at most
 * once a second and only when it changed (live-push.ts). Per-connection state lives in attachments
 * and the last push in storage, so hibernation loses nothing.
 */
import type { RealtimeSnapshot } from "../core/session/realtime.ts";
import { liveSnapshot } from "./live-windows.ts";

export const MAX_SOCKETS = 1_000;
export const PUSH_INTERVAL_MS = 1_000;

export interface SocketAttachment {
  property_id: string;
  viewer: "key" | "admin" | "token";
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
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  ctx.acceptWebSocket(server, [propertyId]);
  const attachment: SocketAttachment = {
    property_id: propertyId,
    viewer: (request.headers.get("x-tally-viewer") ?? "key") as SocketAttachment["viewer"],
    connected_at: Date.now(),
  };
  server.serializeAttachment(attachment);
  // Heartbeats are answered by the runtime without waking the actor.
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  server.send(snapshotMessage(await liveSnapshot(ctx.storage, propertyId, Date.now())));
  return new Response(null, { status: 101, webSocket: client });
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
