/**
 * Helpers for the alerts' workerd tests: minutes of traffic fed to a PropertyDO at controlled times
 * (as the consumer would, one batch a minute), and a webhook receiver standing in for the network:
 * workerd tests cannot host an HTTP server, so the global fetch is wrapped for one host only (the
 * end-to-end test has a real receiver).
 */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { makeEvent } from "../../dev/fixtures/events.ts";
import type { LiveItem } from "../../durable-objects/live-windows.ts";
import { ADMIN, call } from "./helpers.ts";

export const MINUTE = 60_000;
export const minuteOf = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

/** `n` pageviews in `minute`, each a new visitor's first (a new session from `source`). */
export function minuteItems(propertyId: string, minute: number, n: number, source = ""): LiveItem[] {
  return Array.from({ length: n }, (_, j) => {
    const id = `${propertyId}-${minute}-${j}`;
    return {
      event: makeEvent({
        property_id: propertyId,
        client_id: id,
        event_id: id,
        event_timestamp: minute + j * 100,
        source,
      }),
      outcome: { session_id: `s-${id}`, is_new_session: true, is_duplicate: false },
    };
  });
}

/**
 * Feeds minutes `from`..`to` (indexes from `start`), `perMinute(i)` pageviews each, one batch per
 * minute committed at its 59th second; returns the rows each call reported.
 */
export async function feedMinutes(
  propertyId: string,
  start: number,
  from: number,
  to: number,
  perMinute: (i: number) => number,
): Promise<number[]> {
  const stub = env.PROPERTY_DO.getByName(propertyId);
  const rows: number[] = [];
  for (let i = from; i <= to; i++) {
    const minute = start + i * MINUTE;
    rows.push(await stub.applyLive(minuteItems(propertyId, minute, perMinute(i)), [], minute + 59_000));
  }
  return rows;
}

export async function putRules(propertyId: string, patch: Record<string, unknown>): Promise<Response> {
  return call(`/api/v1/properties/${propertyId}/alert-rules`, {
    method: "PUT",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify(patch),
  });
}

export interface ApiAlert {
  alert_id: string;
  kind: string;
  metric: string;
  status: "open" | "resolved";
  opened_at: string;
  resolved_at: string | null;
  minute: string;
  observed: number;
  expected: number;
  message: string;
}

export async function listAlerts(propertyId: string, query = ""): Promise<ApiAlert[]> {
  const res = await call(`/api/v1/properties/${propertyId}/alerts${query}`, { headers: ADMIN });
  if (res.status !== 200) throw new Error(`alerts list failed: ${res.status} ${await res.text()}`);
  return (await res.json<{ alerts: ApiAlert[] }>()).alerts;
}

export interface Received {
  url: string;
  signature: string | null;
  userAgent: string | null;
  contentType: string | null;
  body: string;
  at: number;
}

/** Answers POSTs to https://hooks.test/… with `status(url)` and keeps them; every other fetch goes out as before. */
export function webhookReceiver(status: (url: string) => number = () => 200): Received[] {
  const received: Received[] = [];
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith("https://hooks.test/")) return real(input, init);
    received.push({
      url: request.url,
      signature: request.headers.get("Tally-Signature"),
      userAgent: request.headers.get("User-Agent"),
      contentType: request.headers.get("Content-Type"),
      body: await request.text(),
      at: Date.now(),
    });
    return new Response("", { status: status(request.url) });
  });
  return received;
}
