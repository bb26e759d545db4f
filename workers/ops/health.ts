/**
 * Liveness and readiness, for load balancers, uptime checks and Kubernetes-style probes.
 * `/healthz` (and `/health`, the ingest bench's trivial route) touches nothing: the isolate answers.
 * `/readyz` probes each dependency (platform/readiness.ts): 200 when every required one answers,
 * 503 when one does not. Anyone may ask, so the answer is cached per isolate for a few seconds (a
 * flood of probes is not a flood of ClickHouse, warehouse and R2 calls), and only the admin token
 * sees the errors' text (which can name internal hosts).
 */
import { Hono } from "hono";
import type { Readiness } from "../../core/ops/readiness.ts";
import { checkReadiness } from "../../platform/readiness.ts";
import { requireAdmin } from "../auth.ts";

export const READINESS_CACHE_MS = 5_000;

export const healthRoutes = new Hono<{ Bindings: Env }>();

const live = { status: "ok" } as const;
healthRoutes.get("/health", (c) => c.json(live));
healthRoutes.get("/healthz", (c) => c.json(live));

/** The last answer per env (one per isolate in production; tests point copies at broken services). */
const cached = new WeakMap<object, { at: number; answer: Promise<Readiness> }>();

function redacted(answer: Readiness): Readiness {
  const checks = Object.fromEntries(
    Object.entries(answer.checks).map(([name, { error: _error, ...check }]) => [name, check]),
  ) as Readiness["checks"];
  return { ...answer, checks };
}

healthRoutes.get("/readyz", async function ready(c) {
  const now = Date.now();
  let hit = cached.get(c.env);
  if (!hit || now - hit.at > READINESS_CACHE_MS) {
    hit = { at: now, answer: checkReadiness(c.env) };
    cached.set(c.env, hit);
  }
  const answer = await hit.answer;
  const admin = c.req.header("authorization")
    ? await requireAdmin(c).then(
        () => true,
        () => false,
      )
    : false;
  c.header("Cache-Control", "no-store");
  return c.json(admin ? answer : redacted(answer), answer.status === "ready" ? 200 : 503);
});
