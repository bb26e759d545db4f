/**
 * The PropertyDO's pushes to its dashboards: after a batch changes the live windows, the snapshot
 * goes to every viewer at most once per PUSH_INTERVAL_MS (an alarm catches up the rest) and only
 * when what viewers see changed. The last push's time and fingerprint sit under "push:last_at"
 * and "push:fingerprint".
 */
import { fingerprint, PUSH_INTERVAL_MS, type SocketAttachment, snapshotMessage } from "./live-sockets.ts";
import { liveSnapshot } from "./live-windows.ts";

/** Pushes now or arms the throttle alarm; returns the storage rows written. */
export async function schedulePush(ctx: DurableObjectState, now: number): Promise<number> {
  if (ctx.getWebSockets().length === 0) return 0;
  const last = (await ctx.storage.get<number>("push:last_at")) ?? 0;
  if (now - last >= PUSH_INTERVAL_MS) return pushSnapshot(ctx, now);
  // The alarm is shared (the alerts arm it too): bring it forward, never push it back.
  const armed = await ctx.storage.getAlarm();
  if (armed !== null && armed <= last + PUSH_INTERVAL_MS) return 0;
  await ctx.storage.setAlarm(last + PUSH_INTERVAL_MS);
  return 1;
}

/** Sends the snapshot to every viewer unless it is the one last pushed; returns the storage rows written. */
export async function pushSnapshot(ctx: DurableObjectState, now: number): Promise<number> {
  const sockets = ctx.getWebSockets();
  const first = sockets[0];
  if (!first) return 0;
  const { property_id } = first.deserializeAttachment() as SocketAttachment;
  const snapshot = await liveSnapshot(ctx.storage, property_id, now);
  const print = fingerprint(snapshot);
  if ((await ctx.storage.get<string>("push:fingerprint")) === print) return 0;
  await ctx.storage.put({ "push:last_at": now, "push:fingerprint": print });
  const message = snapshotMessage(snapshot);
  for (const ws of sockets) {
    try {
      ws.send(message);
    } catch {
      // A socket closing while we send: the close handler tidies up.
    }
  }
  return 2;
}
