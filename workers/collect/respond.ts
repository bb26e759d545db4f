/** Shapes a pipeline result as the /collect answer: accepted, partial, or one error for all. */
import { AppError } from "../../core/errors.ts";
import { describeIssues } from "../../core/issues.ts";
import { alreadyCounted } from "./metrics.ts";
import type { PipelineResult, Rejection } from "./pipeline.ts";

const STATUS: Record<string, number> = { property_not_found: 404, origin_not_allowed: 403, event_too_large: 413 };

/** Per-event errors as the partial answer lists them. */
export function errorList(rejections: readonly Rejection[]) {
  return rejections.map((r) => ({ index: r.index, code: r.code, message: describeIssues(r.issues) }));
}

/** When nothing was accepted: one error whose status is shared by all rejections, else 400. */
export function refusal(rejections: readonly Rejection[]): AppError {
  const codes = [...new Set(rejections.map((r) => r.code))];
  const only = codes.length === 1 ? codes[0] : undefined;
  const status = only ? (STATUS[only] ?? 400) : 400;
  // Each rejected event was counted by the pipeline already.
  return alreadyCounted(
    new AppError(only ?? "invalid_events", status, describeIssues(rejections.flatMap((r) => r.issues))),
  );
}

/** The /collect body for a pipeline result, or throws the refusal when nothing was accepted. */
export function collectAnswer(result: PipelineResult, single: boolean): Record<string, unknown> {
  const admitted = result.eventIds.filter((id) => id !== null).length;
  if (admitted === 0) throw refusal(result.rejections);
  const extra = result.notTracked > 0 ? { not_tracked: result.notTracked } : {};
  if (result.rejections.length > 0) {
    return { status: "partial", event_ids: result.eventIds, errors: errorList(result.rejections), ...extra };
  }
  return single
    ? { status: "accepted", event_id: result.eventIds[0], ...extra }
    : { status: "accepted", event_ids: result.eventIds, ...extra };
}
