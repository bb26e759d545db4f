/** Operations in the OpenAPI document (core/openapi.ts): health, readiness, pipeline metrics (alerts: alert-paths.ts). */
import type { z } from "zod";
import { OpsMetricsParamsSchema } from "../ops/metrics-report.ts";
import { ReadinessSchema } from "../ops/readiness.ts";
import { errors, json, queryParameters } from "./answers.ts";

const answer = (description: string, schema: z.ZodType) => ({
  description,
  content: { "application/json": { schema: json(schema, "output") } },
});

export function opsPaths() {
  return {
    "/healthz": {
      get: {
        summary: "Liveness: the Worker answers (no dependency is asked)",
        security: [],
        responses: { "200": { description: '{"status":"ok"}' } },
      },
    },
    "/readyz": {
      get: {
        summary:
          "Readiness: each dependency with its status and latency; errors' text only with the admin token (cached 5 s)",
        security: [],
        responses: {
          "200": answer("Every required dependency answered", ReadinessSchema),
          "503": answer("A required dependency (ClickHouse, the archive, the queues) did not answer", ReadinessSchema),
        },
      },
    },
    "/api/v1/ops/metrics": {
      get: {
        summary: "Pipeline metrics of the last minutes (admin token): JSON, or Prometheus text with Accept: text/plain",
        parameters: queryParameters(OpsMetricsParamsSchema),
        responses: {
          "200": {
            description: "Counters, timings (p50/p95/p99) and gauges, per minute and over the window",
            content: { "application/json": {}, "text/plain": {} },
          },
          ...errors([400, 401, 429, 503]),
        },
      },
    },
  };
}
