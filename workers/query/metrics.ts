/** Query API latency and failures by route, as pipeline metrics (issue #18). */
import type { MiddlewareHandler } from "hono";
import { countMetric, observeMetric } from "../../platform/ops-metrics.ts";

/** Times every answer of the route (errors included: they are rendered before this sees them); counts those ≥ 500. */
export function measureQueries(route: string): MiddlewareHandler {
  const labels = { route };
  return async function measureQuery(c, next) {
    const start = Date.now();
    await next();
    observeMetric("query_ms", Date.now() - start, labels);
    if (c.res.status >= 500) countMetric("query_errors", labels);
  };
}
