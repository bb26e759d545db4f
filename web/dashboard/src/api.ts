/**
 * The dashboard's only door to the server: same-origin fetches with `Authorization: Bearer` (or, for a
 * person signed in with an account, the HttpOnly session cookie and no header), the error envelope
 * turned into an `ApiError`, and every failure explained in words a person reads.
 * Types come from the server's own contracts in core/ (type-only imports: nothing of zod ships).
 */
import type { z } from "zod";
import type { QueryResponseSchema } from "../../../core/openapi.ts";
import type { Goal } from "../../../core/property/goals.ts";
import type { FunnelResult } from "../../../core/query/funnel.ts";
import type { RetentionResult } from "../../../core/query/retention.ts";
import type { QuerySpecInput } from "../../../core/query/spec.ts";
import type { RealtimeSnapshot } from "../../../core/session/realtime.ts";
import type { Capability, Principal, Role } from "../../../core/team/roles.ts";
import type { Me } from "../../../core/team/schemas.ts";

export type QueryResponse = z.infer<typeof QueryResponseSchema>;
export type ResultRow = QueryResponse["results"][number];
export type { Capability, Goal, Me, QuerySpecInput, RealtimeSnapshot, Role };

/**
 * The token that means "the session cookie": an account's requests carry no Authorization header.
 * `ANONYMOUS` means no credential at all, not even the cookie (a public dashboard, an invitation).
 */
export const SESSION = "";
export const ANONYMOUS = "\0anonymous";

/** `GET /api/v1/properties/:id/access`: who the caller is here and what it may do. */
export interface Access {
  principal: Principal["kind"];
  role: Role | null;
  capabilities: Capability[];
  property: { property_id: string; name: string; timezone: string; public_dashboard: boolean; embed_origins: string[] };
}

export interface FunnelReport extends FunnelResult {
  report: "funnel";
  window_seconds: number;
}
export interface RetentionReport extends RetentionResult {
  report: "retention";
}
export interface GoalsReport {
  report: "goals";
  rows: { goal: string; visitors: number; events: number; conversion_rate: number }[];
}
export interface PropertySummary {
  property_id: string;
  name: string;
  domains: string[];
}
/** GET /api/v1/bots (workers/query/bots.ts). */
export interface BotReport {
  /** The instants counted: `to` is earlier than asked when the warehouse answered up to its frontier. */
  from: string;
  to: string;
  total_events: number;
  human_events: number;
  bot_events: number;
  by_reason: { reason: string; events: number; visitors: number }[];
  samples: {
    event_timestamp: string;
    reason: string;
    user_agent: string;
    page_url: string;
    country: string;
    asn: number | string;
  }[];
}

/** A refusal from the API (its `{error:{code,message,status}}` envelope) or from the network. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface Options {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  accept?: "application/json" | "text/csv";
  /** Error statuses whose body is the answer (`GET /readyz` answers 503 with its checks). */
  allow?: number[];
}

type Refusal = (status: number, token: string) => void;
const refusalListeners = new Set<Refusal>();

/**
 * Hears every 401, 403 and 404 with the token that was refused, so the shell can tell an ended
 * session or a revoked shared link from one module's failure. Returns the unsubscribe.
 */
export function onRefusal(listener: Refusal): () => void {
  refusalListeners.add(listener);
  return () => refusalListeners.delete(listener);
}

async function send(token: string, path: string, options: Options): Promise<Response> {
  const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
  // The session cookie is HttpOnly: with it, the credential is the cookie alone.
  if (token !== SESSION && token !== ANONYMOUS) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      // A public dashboard must not act as whoever happens to be signed in in this browser.
      credentials: token === ANONYMOUS ? "omit" : "same-origin",
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "network", `the request could not be sent (${(error as Error).message})`);
  }
  if (res.ok || options.allow?.includes(res.status)) return res;
  if (res.status === 401 || res.status === 403 || res.status === 404)
    for (const listener of refusalListeners) listener(res.status, token);
  let code = "http_error";
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not our envelope (a proxy's page, an empty body): the status line is all there is.
  }
  const retry = Number(res.headers.get("retry-after"));
  throw new ApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/** JSON from the API, or an `ApiError`. */
export async function api<T>(token: string, path: string, options: Options = {}): Promise<T> {
  const res = await send(token, path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Text (CSV) from the API. */
export async function apiText(token: string, path: string, options: Options = {}): Promise<string> {
  return (await send(token, path, options)).text();
}

/** POST /api/v1/query. */
export function runQuery(token: string, spec: QuerySpecInput, signal?: AbortSignal): Promise<QueryResponse> {
  return api<QueryResponse>(token, "/api/v1/query", { body: spec, signal });
}

/** Whether a refusal means the server has no such route (an older Tally), rather than a failure. */
export function notAvailable(error: unknown): boolean {
  return error instanceof ApiError && ((error.status === 404 && error.code === "not_found") || error.status === 501);
}

/** What went wrong, for a person: a headline and the API's own message. */
export function explain(error: unknown): { title: string; detail: string } {
  if (!(error instanceof ApiError))
    return { title: "Something went wrong in the dashboard.", detail: String((error as Error)?.message ?? error) };
  const detail = error.message;
  switch (true) {
    case error.status === 0:
      return { title: "Tally's server could not be reached. Check your connection, or whether it is running.", detail };
    case error.status === 401:
      return {
        title: "Your sign-in was not accepted (a revoked key, or a session that ended). Sign out and sign in again.",
        detail,
      };
    case error.status === 403:
      return { title: "Your access to this property does not allow this.", detail };
    case error.status === 404:
      return { title: "Not found.", detail };
    case error.status === 429: {
      const minutes = error.retryAfterSeconds ? Math.ceil(error.retryAfterSeconds / 60) : undefined;
      return {
        title: `Too many requests for this property right now${minutes ? `; try again in about ${minutes} minute${minutes === 1 ? "" : "s"}` : ""}.`,
        detail,
      };
    }
    case error.status === 501:
      return { title: "This date range is not available yet.", detail };
    case error.status === 503 && error.code === "warehouse_unavailable":
      return {
        title: "Older history is unreachable right now (the warehouse did not answer). Try again in a moment.",
        detail,
      };
    case error.status >= 400 && error.status < 500:
      return { title: "The server could not answer this question.", detail };
    default:
      return { title: `The server failed to answer (error ${error.status}). Try again in a moment.`, detail };
  }
}
