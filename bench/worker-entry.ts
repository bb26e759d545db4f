/**
 * The bench's Worker: the real app, a trivial POST (`x-bench-variant: trivial-post`), and two
 * variants chosen by the same header that
 * swap out local simulators which cost far more here than the edge code and do not exist in
 * production:
 * - `edge-only`: a queue binding that drops messages (Miniflare's queue simulator is a Durable
 *   Object in the same workerd);
 * - `edge-code`: that, plus rate limiters that always allow (Miniflare's limiter simulator costs
 *   about 1 ms of workerd CPU per call here).
 * And, for bench/packing.ts, `x-bench-pack-window: <ms>`: the real app and queue with the isolate's
 * packer at that window, or `ingest`: the ingest stage (INGEST_SHARDS=4, durable-objects/ingest-do.ts),
 * each through a binding that counts what is sent (`GET /__bench/queue` reads the counts).
 * The variant environments are built once per isolate, so config parsing stays cached as in
 * production. Bench only: never deployed.
 */
import { IngestDO as RealIngestDO } from "../durable-objects/ingest-do.ts";
import { app } from "../workers/app.ts";
import { configurePacking } from "../workers/collect/queue.ts";

// Every actor the Worker exports (wrangler refuses a bundle missing one that wrangler.toml binds);
// IngestDO below replaces the real one.
export * from "../workers/main.ts";

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
        LOOKUP_RATE_LIMITER: allowingLimiter,
      },
    };
    variants.set(env, v);
  }
  return v;
}

interface QueueCounts {
  calls: number;
  messages: number;
  bytes: number;
}
const counts = new Map<string, QueueCounts>();
const packing = new WeakMap<Env, Map<string, Env>>();

/** The counts of one target (module state: the ingest actors run in this isolate too). */
function countsOf(target: string): QueueCounts {
  let c = counts.get(target);
  if (!c) {
    c = { calls: 0, messages: 0, bytes: 0 };
    counts.set(target, c);
  }
  return c;
}

/** The real queue behind a binding that counts calls, messages and their bytes (text as UTF-16 units: ASCII here). */
function countingQueue(queue: Queue, c: QueueCounts): Queue {
  return {
    send: (body: unknown, options?: QueueSendOptions) => queue.send(body, options),
    sendBatch: (batch: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
      const list = [...batch];
      c.calls++;
      c.messages += list.length;
      for (const m of list)
        c.bytes += typeof m.body === "string" ? m.body.length : m.body instanceof Uint8Array ? m.body.byteLength : 0;
      return queue.sendBatch(list, options);
    },
  } as unknown as Queue;
}

/** The ingest actor, sending through a counting binding. */
export class IngestDO extends RealIngestDO {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, { ...env, EVENTS_QUEUE: countingQueue(env.EVENTS_QUEUE, countsOf("ingest")) });
  }
}

function packingEnv(env: Env, window: string): Env {
  let byWindow = packing.get(env);
  if (!byWindow) {
    byWindow = new Map();
    packing.set(env, byWindow);
  }
  let v = byWindow.get(window);
  if (!v) {
    if (window === "ingest") v = { ...env, INGEST_SHARDS: "4" };
    else {
      const queue = countingQueue(env.EVENTS_QUEUE, countsOf(window));
      configurePacking(queue, { windowMs: Number(window) });
      v = { ...env, EVENTS_QUEUE: queue, INGEST_SHARDS: "0" };
    }
    byWindow.set(window, v);
  }
  return v;
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/queue") return Response.json(Object.fromEntries(counts));
    const window = request.headers.get("x-bench-pack-window");
    if (window !== null) return app.fetch(request, packingEnv(env, window), ctx);
    const variant = request.headers.get("x-bench-variant");
    // The second baseline: a POST answered at once, without reading its body — what receiving a
    // request with a body costs the runtime before any code of ours runs.
    if (variant === "trivial-post") return new Response('{"status":"ok"}', { status: 202 });
    return app.fetch(request, (variant && variantsOf(env)[variant]) || env, ctx);
  },
} satisfies ExportedHandler<Env>;
