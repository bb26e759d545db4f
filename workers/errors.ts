/** The HTTP shell of the one error type: every failure leaves as `{ "error": { code, message, status } }`. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, toEnvelope } from "../core/errors.ts";
import { errorFields, log } from "../platform/log.ts";

/** Hono `onError`: AppErrors keep their status; anything else is logged and becomes a 500. */
export function renderError(error: Error, c: Context): Response {
  const appError =
    error instanceof AppError
      ? error
      : new AppError("internal", 500, "Internal error; it has been logged", { cause: error });
  if (appError.status >= 500)
    log.error(appError.message, {
      code: appError.code,
      route: new URL(c.req.url).pathname,
      ...(appError.cause === undefined ? {} : errorFields(appError.cause)),
    });
  // Ingest rate limits are per minute (the binding's period); others say when to come back.
  const retryAfter = appError.retryAfterSeconds ?? (appError.status === 429 ? 60 : undefined);
  const headers: Record<string, string> = retryAfter !== undefined ? { "Retry-After": String(retryAfter) } : {};
  return c.json(toEnvelope(appError), appError.status as ContentfulStatusCode, headers);
}

/** Hono `notFound`: unknown routes get the envelope too. */
export function renderNotFound(c: Context): Response {
  const method = c.req.method;
  return c.json(
    toEnvelope(new AppError("not_found", 404, `No route for ${method} ${new URL(c.req.url).pathname}`)),
    404,
  );
}
