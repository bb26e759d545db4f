/**
 * The bench's Worker: the real app, plus the same app behind `/edge-only/…` with a queue binding
 * that drops messages. Locally, a queue send goes through Miniflare's queue simulator (a Durable
 * Object in the same workerd), which costs far more than the edge code and does not exist in
 * production; the second path shows the edge's own cost. Bench only: never deployed.
 */
import { app } from "../workers/app.ts";

const droppingQueue = {
  send: async () => {},
  sendBatch: async () => {},
} as unknown as Queue;

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/edge-only/")) return app.fetch(request, env, ctx);
    url.pathname = url.pathname.slice("/edge-only".length);
    return app.fetch(new Request(url, request), { ...env, EVENTS_QUEUE: droppingQueue }, ctx);
  },
} satisfies ExportedHandler<Env>;
