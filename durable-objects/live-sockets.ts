/**
 * The PropertyDO's dashboards: hibernatable WebSockets that receive the realtime snapshot at most
 * once a second and only when it changed. Per-connection state lives in attachments and the
 * last push in storage, so hibernation loses nothing.
 */
import type { RealtimeSnapshot } from "../core/session/realtime.ts";

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
