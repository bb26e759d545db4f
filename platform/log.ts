/**
 * Structured logs: one JSON object a line, each with the request id of the request (or queue batch,
 * or cron run) it belongs to, so a line in Workers Logs leads to every other line of its request.
 * Nothing personal is logged: callers pass ids, counts and reasons, never an address, a user agent,
 * a visitor id or a URL with its query (test/workers/logs-privacy.test.ts reads the lines back).
 */
import { AsyncLocalStorage } from "node:async_hooks";

type Fields = Record<string, unknown>;

const context = new AsyncLocalStorage<{ request_id: string }>();

/** Runs `fn` with `requestId` on every line it logs (a request, a queue batch, a cron run). */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return context.run({ request_id: requestId }, fn);
}

/** The current request's id, if any. */
export function currentRequestId(): string | undefined {
  return context.getStore()?.request_id;
}

/** A new request id: Cloudflare's ray id when the request has one (it joins our lines to Cloudflare's), else a UUID. */
export function newRequestId(ray?: string | null): string {
  return ray && /^[0-9a-f]{8,32}(-[A-Z]{3})?$/i.test(ray) ? ray : crypto.randomUUID();
}

/** An error as safe fields: its name and message (statement text and stack stay out of logs). */
export function errorFields(error: unknown): Fields {
  if (error instanceof Error) return { error: error.name, error_message: error.message.slice(0, 500) };
  return { error: String(error).slice(0, 500) };
}

function line(level: "info" | "warn" | "error", msg: string, fields: Fields = {}): string {
  return JSON.stringify({ level, msg, ...fields, request_id: currentRequestId() });
}

export const log = {
  info: (msg: string, fields?: Fields) => console.log(line("info", msg, fields)),
  warn: (msg: string, fields?: Fields) => console.warn(line("warn", msg, fields)),
  error: (msg: string, fields?: Fields) => console.error(line("error", msg, fields)),
  /** A measurement line (`tally_metric` first: bench/cost.ts matches on it). */
  metric: (name: string, fields: Fields) =>
    console.log(JSON.stringify({ tally_metric: name, ...fields, request_id: currentRequestId() })),
};
