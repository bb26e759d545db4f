/** The HTTP face of the Worker: every route group mounted on one Hono app with one error shell. */
import { Hono } from "hono";
import { loadConfig } from "../platform/config.ts";
import { newRequestId, withRequestId } from "../platform/log.ts";
import { flushOpsMetrics } from "../platform/ops-metrics.ts";
import { dataQualityRoutes } from "./admin/data-quality.ts";
import { funnelRoutes } from "./admin/funnels.ts";
import { goalRoutes } from "./admin/goals.ts";
import { replayRoutes } from "./admin/replay.ts";
import { adminRoutes } from "./admin/routes.ts";
import { warehouseRoutes } from "./admin/warehouse.ts";
import { alertRoutes } from "./alerts/routes.ts";
import { flushRefusals, hasPendingRefusals } from "./collect/refusals.ts";
import { collectRoutes } from "./collect/route.ts";
import { compatRoutes } from "./compat/routes.ts";
import { renderError, renderNotFound } from "./errors.ts";
import { importRoutes } from "./import/route.ts";
import { deadLetterRoutes } from "./ops/dead-letters.ts";
import { healthRoutes } from "./ops/health.ts";
import { opsMetricsRoutes } from "./ops/metrics.ts";
import { privacyRoutes } from "./privacy/routes.ts";
import { botRoutes } from "./query/bots.ts";
import { queryRoutes } from "./query/route.ts";
import { realtimeRoutes } from "./realtime/route.ts";
import { socketRoutes } from "./realtime/socket.ts";
import { securityHeaders } from "./security-headers.ts";
import { accountRoutes } from "./team/accounts.ts";
import { digestRoutes } from "./team/digests.ts";
import { memberRoutes } from "./team/members.ts";
import { noteRoutes } from "./team/notes.ts";
import { shareRoutes } from "./team/shares.ts";
import { trackerRoutes } from "./tracker/route.ts";

export const app = new Hono<{ Bindings: Env }>();
// Every log line of a request carries its id (Cloudflare's ray id when there is one), and so does
// its answer (X-Request-Id), so a user's report leads to the lines. The isolate's pipeline metrics
// are written after the answer, at most every OPS_FLUSH_SECONDS.
app.use(function requestContext(c, next) {
  const id = newRequestId(c.req.header("cf-ray"));
  return withRequestId(id, async () => {
    await next();
    c.header("X-Request-Id", id);
    c.executionCtx.waitUntil(flushOpsMetrics(c.env).catch(() => undefined));
  });
});
app.use(securityHeaders());

// Liveness first: the ingest bench compares /collect against /health, the most trivial route.
app.route("/", healthRoutes);
// Refusal counts wait in the isolate and are written after a later request (at most every
// REFUSAL_FLUSH_SECONDS); a request with nothing pending passes straight through.
app.use(function flushCounters(c, next) {
  if (!hasPendingRefusals()) return next();
  c.executionCtx.waitUntil(flushRefusals(c.env, loadConfig(c.env).REFUSAL_FLUSH_SECONDS).catch(() => undefined));
  return next();
});
app.route("/", trackerRoutes);
app.route("/", collectRoutes);
app.route("/", accountRoutes);
app.route("/", memberRoutes);
app.route("/", shareRoutes);
app.route("/", noteRoutes);
app.route("/", digestRoutes);
app.route("/", goalRoutes);
app.route("/", alertRoutes);
app.route("/", funnelRoutes);
app.route("/", dataQualityRoutes);
app.route("/", privacyRoutes);
app.route("/", adminRoutes);
app.route("/", compatRoutes);
app.route("/", importRoutes);
app.route("/", botRoutes);
app.route("/", realtimeRoutes);
app.route("/", socketRoutes);
app.route("/", queryRoutes);
app.route("/", replayRoutes);
app.route("/", warehouseRoutes);
app.route("/", deadLetterRoutes);
app.route("/", opsMetricsRoutes);
app.notFound(renderNotFound);
app.onError(renderError);
