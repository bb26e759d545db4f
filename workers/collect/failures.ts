import { AppError } from "../../core/errors.ts";

/** Pipeline failures that are ours, not the client's: the events were not accepted, so 503 (retry). */
export function queueFailure(cause: unknown): never {
  if (cause instanceof AppError) throw cause;
  throw new AppError("queue_unavailable", 503, "Events could not be queued; retry later", { cause });
}
