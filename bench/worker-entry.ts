/**
 * The bench's Worker: the real app, a trivial POST (`x-bench-variant: trivial-post`), and two
 * variants chosen by the same header that
 * swap out local simulators which cost far more here than the edge code and do not exist in
 * production:
 * - `edge-only`: a queue binding that drops messages (Miniflare's queue simulator is a Durable
 *   Object in the same workerd);
 * - `edge-code`: that, plus rate limiters that always allow (Miniflare's limiter simulator costs
 *   about 1 ms of workerd CPU per call here).
 * The variant environments are built once per isolate, so config parsing stays cached as in
 * production. Bench only: never deployed.
 */
import { app } from "../workers/app.ts";

export { PropertyDO, RegistryDO, ReplayDO, SessionDO } from "../workers/main.ts";

const droppingQueue = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue;
const allowingLimiter = { limit: async () => ({ success: true }) } as unknown as RateLimit;
const variants = new WeakMap<Env, Record<string, Env>>();

function variantsOf(env: Env): Record<string, Env> {
  let v = variants.get(env);
  if (!v) {
    v = {
      "edge-only": { ...env, EVENTS_QUEUE: droppingQueue },
      "edge-code": {
        ...env,
        EVENTS_QUEUE: droppingQueue,
        IP_RATE_LIMITER: allowingLimiter,
        PROPERTY_RATE_LIMITER: allowingLimiter,
      },
    };
    variants.set(env, v);
  }
  return v;
}

export default {
  fetch(request, env, ctx) {
    const variant = request.headers.get("x-bench-variant");
    // The second baseline: a POST answered at once, without reading its body — what receiving a
    // request with a body costs the runtime before any code of ours runs.
    if (variant === "trivial-post") return new Response('{"status":"ok"}', { status: 202 });
    return app.fetch(request, (variant && variantsOf(env)[variant]) || env, ctx);
  },
} satisfies ExportedHandler<Env>;
