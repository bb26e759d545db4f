/**
 * The bench's Worker: the real app, and the same app behind two prefixes that swap out local
 * simulators which cost far more here than the edge code, and do not exist in production:
 * - `/edge-only/…`: a queue binding that drops messages (Miniflare's queue simulator is a Durable
 *   Object in the same workerd);
 * - `/edge-code/…`: that, plus rate limiters that always allow (Miniflare's limiter simulator costs
 *   ~1 ms of workerd CPU per call here).
 * Bench only: never deployed.
 */
import { app } from "../workers/app.ts";

export { PropertyDO, RegistryDO } from "../workers/main.ts";

const droppingQueue = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue;
const allowingLimiter = { limit: async () => ({ success: true }) } as unknown as RateLimit;

function strip(request: Request, url: URL, prefix: string): Request {
  url.pathname = url.pathname.slice(prefix.length);
  return new Request(url, request);
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/edge-only/")) {
      return app.fetch(strip(request, url, "/edge-only"), { ...env, EVENTS_QUEUE: droppingQueue }, ctx);
    }
    if (url.pathname.startsWith("/edge-code/")) {
      const limiters = { IP_RATE_LIMITER: allowingLimiter, PROPERTY_RATE_LIMITER: allowingLimiter };
      return app.fetch(strip(request, url, "/edge-code"), { ...env, EVENTS_QUEUE: droppingQueue, ...limiters }, ctx);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
