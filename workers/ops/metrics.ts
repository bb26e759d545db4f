/**
 * GET /api/v1/ops/metrics?minutes=60 (admin): the pipeline metrics of every isolate over the last
 * minutes, from ClickHouse's `ops_metrics`. JSON by default; Prometheus text with `Accept:
 * text/plain` or `application/openmetrics-text`, so Prometheus or Grafana can scrape it.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { buildReport, MAX_MINUTES, OpsMetricsParamsSchema, reportWindow } from "../../core/ops/metrics-report.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../core/ops/prometheus.ts";
import { flushOpsMetrics, readOpsMetrics } from "../../platform/ops-metrics.ts";
import { requireAdmin } from "../auth.ts";

export const opsMetricsRoutes = new Hono<{ Bindings: Env }>();

const wantsText = (accept: string) => /\btext\/plain\b|\bapplication\/openmetrics-text\b/i.test(accept);

opsMetricsRoutes.get("/api/v1/ops/metrics", async function opsMetrics(c) {
  await requireAdmin(c);
  const parsed = OpsMetricsParamsSchema.safeParse({ minutes: c.req.query("minutes") });
  if (!parsed.success)
    throw new AppError(
      "invalid_request",
      400,
      `minutes: must be a whole number from 1 to ${MAX_MINUTES} (${describeIssues(toFieldIssues(parsed.error))})`,
    );
  const { minutes } = parsed.data;
  // This isolate's pending minutes first, so the answer includes what it just recorded.
  const now = Date.now();
  await flushOpsMetrics(c.env, now, { force: true });
  const window = reportWindow(minutes, now);
  const report = buildReport(await readOpsMetrics(c.env, window.from, window.to), { ...window, minutes, now });
  if (wantsText(c.req.header("accept") ?? ""))
    return c.body(renderPrometheus(report), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  return c.json(report);
});
