/**
 * A property's live snapshot from its PropertyDO: pushed over the WebSocket (`/ws/realtime`, with a
 * one-minute token from `POST /api/v1/realtime/token`, since browsers cannot set headers on sockets),
 * reconnecting with backoff, and polled from `GET /api/v1/realtime` while the socket is down.
 */
import { useEffect, useState } from "react";
import { api, type RealtimeSnapshot } from "./api.ts";

/** `polling`: the socket failed twice in a row, so the snapshot is fetched every 5 s until it reconnects. */
export type LiveStatus = "connecting" | "live" | "polling";

/** The live snapshot for a property: pushed over the socket, else polled. */
export function useLiveSnapshot(property: string, token: string) {
  const [snapshot, setSnapshot] = useState<RealtimeSnapshot>();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let closed = false;
    let socket: WebSocket | undefined;
    let failures = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    let ping: ReturnType<typeof setInterval> | undefined;
    const fetchOnce = () =>
      api<RealtimeSnapshot>(token, `/api/v1/realtime?property=${encodeURIComponent(property)}`).then(
        (s) => {
          if (!closed) {
            setSnapshot(s);
            setError(undefined);
          }
        },
        (e: unknown) => !closed && setError(e),
      );
    const startPolling = () => {
      if (poll) return;
      setStatus("polling");
      void fetchOnce();
      poll = setInterval(fetchOnce, 5_000);
    };
    const connect = async () => {
      try {
        const { token: wsToken } = await api<{ token: string }>(
          token,
          `/api/v1/realtime/token?property=${encodeURIComponent(property)}`,
          { method: "POST" },
        );
        if (closed) return;
        const scheme = location.protocol === "https:" ? "wss" : "ws";
        const ws = new WebSocket(
          `${scheme}://${location.host}/ws/realtime?property=${encodeURIComponent(property)}&token=${encodeURIComponent(wsToken)}`,
        );
        socket = ws;
        ws.onopen = () => {
          failures = 0;
          setStatus("live");
          if (poll) clearInterval(poll);
          poll = undefined;
          ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("ping"), 25_000);
        };
        ws.onmessage = (m) => {
          if (typeof m.data !== "string" || m.data === "pong") return;
          try {
            const message = JSON.parse(m.data) as { type?: string; data?: RealtimeSnapshot };
            if (message.type === "snapshot" && message.data) {
              setSnapshot(message.data);
              setError(undefined);
            }
          } catch {
            // Not JSON: nothing this dashboard understands.
          }
        };
        ws.onclose = () => {
          clearInterval(ping);
          if (!closed) scheduleRetry();
        };
      } catch (e) {
        if (closed) return;
        setError(e);
        scheduleRetry();
      }
    };
    const scheduleRetry = () => {
      failures++;
      if (failures >= 2) startPolling();
      else setStatus("connecting");
      retry = setTimeout(connect, Math.min(30_000, 1_000 * 2 ** failures));
    };
    void connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      clearInterval(poll);
      clearInterval(ping);
      socket?.close();
    };
  }, [property, token]);
  return { snapshot, status, error };
}
