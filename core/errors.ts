/** The one error type of Tally. Every layer throws it; the HTTP shell renders it as the envelope. */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** For 429 and 503: seconds until trying again makes sense (the `Retry-After` header). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The one error envelope: `{ "error": { "code", "message", "status" } }`. */
export interface ErrorEnvelope {
  error: { code: string; message: string; status: number };
}

/** Renders an AppError as the wire envelope. */
export function toEnvelope(error: AppError): ErrorEnvelope {
  return { error: { code: error.code, message: error.message, status: error.status } };
}
