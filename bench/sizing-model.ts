/**
 * The production sizing model (issue #19; docs/production.md "Sizing", `npm run bench:sizing`):
 * for a sustained rate of events, the settings and sizes a deployment needs and what it costs.
 * Pure: every figure comes from the constants below (measured ones name their source) and from
 * bench/cost-model.ts, whose Cloudflare lines it re-prices at this rate. Platform limits are
 * shared/REFERENCE.md's; whatever a size would need beyond one is listed in `limits`, not hidden.
 */
import { ConfigSchema } from "../core/config.ts";
import { requestsPerMessage } from "../core/ingest/packing-model.ts";
import { MAX_PACKED_BYTES } from "../core/ingest/queue-message.ts";
import { type Design, type Line, PRICE, priceLines, zipfWeights } from "./cost-model.ts";
import { ASSUMPTIONS, ESTIMATE_PRICES, LIMITS, MIX } from "./sizing-inputs.ts";
import { fmt, hourlyJobsCapacity, limitsAt, usd } from "./sizing-limits.ts";

export { ASSUMPTIONS, ESTIMATE_PRICES, fmt, hourlyJobsCapacity, LIMITS, MIX, usd };

const INGEST_WINDOW_MS = ConfigSchema.shape.INGEST_WINDOW_MS.parse(undefined);
const ACTOR_COMMIT_MS = ConfigSchema.shape.ACTOR_COMMIT_MS.parse(undefined);
/** consumers/events-consumer.ts CHUNK_JSON_BYTES: a delivery is worked in runs of ≤ 8 MB of event JSON. */
const CHUNK_EVENTS = 8_000_000 / (MIX.jsonBytesPerRequest / MIX.eventsPerRequest);
const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const DO_GB = 0.125;

/**
 * ClickHouse rows written per event (tables and views) for inserts of `n` events: a + b/n through the
 * two measured points, 33.0 at 375 events an insert (docs/cost.md's run at R=mix) and ~10 at ~9,100
 * (bench:consumer, chunks of 8 MB): ~9 rows an event plus ~9,000 an insert (the views' day blocks).
 */
export function clickhouseRowsPerEvent(n: number): number {
  const b = (33.0 - 10.0) / (1 / 375 - 1 / 9_100);
  return 33.0 - b / 375 + b / n;
}

/** Zipf (s = 1) shares of `n` locations, busiest first. */
function locationShares(n: number): number[] {
  return zipfWeights(n, 1);
}

/**
 * Messages per second from the ingest stage for one queue shard's `requests`/s, spread over the
 * locations like all traffic, each location's share split over the shard's `ingestShards` actors
 * there, each packing its share in one packer (core/ingest/ingest-route.ts: an actor packs one shard).
 */
function messagesPerSecond(requests: number, ingestShards: number): number {
  return locationShares(ASSUMPTIONS.locations).reduce((n, share) => {
    const rate = (requests * share) / ingestShards;
    return (
      n + (requests * share) / requestsPerMessage(rate, INGEST_WINDOW_MS, MIX.jsonBytesPerRequest, MAX_PACKED_BYTES)
    );
  }, 0);
}

/** The one packer rate that packs `rpm` requests a message: the cost model prices a design by it. */
function rateForPacking(rpm: number): number {
  let low = 0;
  let high = 1e6;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (requestsPerMessage(mid, INGEST_WINDOW_MS, MIX.jsonBytesPerRequest, MAX_PACKED_BYTES) < rpm) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

export interface Sizing {
  eventsPerSecond: number;
  requestsPerSecond: number;
  busiestLocationRequests: number;
  /** The busiest location's requests on the hottest queue shard: INGEST_SHARDS actors share them. */
  busiestShardRequests: number;
  ingestShards: number;
  requestsPerMessage: number;
  messagesPerSecond: number;
  queueShards: number;
  hottestQueueMessages: number;
  biggestPropertyEvents: number;
  sessionShards: number;
  eventsPerDelivery: number;
  deliveriesPerSecond: number;
  maxConcurrency: number;
  clickhouseRowsPerSecond: number;
  clickhouseInsertsPerSecond: number;
  clickhouseVcpus: number;
  clusterShards: number;
  clickhouseTb: number;
  r2WritesPerSecond: number;
  archiveTb: number;
  warehouseNodes: string;
  warehouseTb: number;
  /** Cloudflare lines, dollars per billion events at this rate. */
  lines: Line[];
  cloudflareMonthly: number;
  clickhouseMonthly: number;
  redshiftMonthly: number;
  r2StorageMonthly: number;
  limits: string[];
}

/**
 * How many events queues, and ingest actors per location and queue, a rate of `requests` needs:
 * `biggest` is the biggest property's share, `busiest` the busiest location's requests/s.
 */
function planQueues(requests: number, biggest: number, busiest: number, queueCapacity: number) {
  // A property's events stay in one queue (platform/events-queue.ts shardOf): the hottest shard
  // holds the biggest property and its share of the rest. Each queue shard has INGEST_SHARDS actors
  // a location, as few as keep the busiest location's hottest shard under an actor's ceiling.
  const shardMessages = (q: number) => {
    const hot = biggest + (1 - biggest) / q;
    const rest = q > 1 ? (1 - hot) / (q - 1) : 0;
    const ingest = Math.max(1, Math.ceil((busiest * hot) / LIMITS.actorRequestsPerSecond));
    const hotMessages = messagesPerSecond(requests * hot, ingest);
    const restMessages = messagesPerSecond(requests * rest, ingest);
    return { hot: hotMessages, rest: restMessages, total: hotMessages + (q - 1) * restMessages, ingest, share: hot };
  };
  // The smallest count where every shard fits; when the biggest property alone cannot fit one
  // queue (its actors as for one shard of its own), the smallest (from 2) where the other shards
  // fit, and the limit is reported.
  const alone =
    messagesPerSecond(requests * biggest, Math.max(1, Math.ceil((busiest * biggest) / LIMITS.actorRequestsPerSecond))) >
    queueCapacity;
  let queueShards = 1;
  for (; queueShards < 1_024; queueShards++) {
    const m = shardMessages(queueShards);
    if (alone ? queueShards > 1 && m.rest <= queueCapacity : m.hot <= queueCapacity && m.rest <= queueCapacity) break;
  }
  const m = shardMessages(queueShards);
  return { queueShards, hottestQueueMessages: m.hot, messages: m.total, ingestShards: m.ingest, hottestShare: m.share };
}

/** Everything a deployment of `eventsPerSecond` sustained needs, and what it costs. */
export function size(eventsPerSecond: number): Sizing {
  const a = ASSUMPTIONS;
  const requests = eventsPerSecond / MIX.eventsPerRequest;
  const weights = zipfWeights(a.properties);
  const biggest = weights[0] ?? 0;
  const busiest = requests * (locationShares(a.locations)[0] ?? 0);
  const queueCapacity = LIMITS.queueMessagesPerSecond * LIMITS.queueUse;
  const { queueShards, hottestQueueMessages, messages, ingestShards, hottestShare } = planQueues(
    requests,
    biggest,
    busiest,
    queueCapacity,
  );
  const rpm = requests / messages;
  const design: Design = {
    name: "ingest",
    isolateRate: 10,
    shardRate: rateForPacking(rpm),
    windowMs: INGEST_WINDOW_MS,
  };

  const biggestPropertyEvents = eventsPerSecond * biggest;
  const sessionShards = Math.min(
    LIMITS.sessionShards,
    Math.max(1, Math.ceil(biggestPropertyEvents / a.sessionActorEventsPerSecond)),
  );
  const eventsPerMessage = rpm * MIX.eventsPerRequest;
  const eventsPerDelivery = Math.min(LIMITS.messagesPerBatch * eventsPerMessage, CHUNK_EVENTS);
  const deliveriesPerSecond = eventsPerSecond / eventsPerDelivery;
  const perInvocation =
    eventsPerDelivery / (eventsPerDelivery * a.consumerCpuSecondsPerEvent + a.consumerWaitSecondsPerChunk);
  const hottestQueueEvents = hottestQueueMessages * eventsPerMessage;
  const maxConcurrency = Math.ceil((1.5 * hottestQueueEvents) / perInvocation);

  const clickhouseRowsPerSecond = eventsPerSecond * clickhouseRowsPerEvent(eventsPerDelivery);
  const clickhouseVcpus = Math.max(
    4,
    2 * Math.ceil((a.clickhouseHeadroom * clickhouseRowsPerSecond) / a.clickhouseRowsPerCoreSecond / 2),
  );
  const tb = (days: number, bytes: number) => (eventsPerSecond * 86_400 * days * bytes) / 1e12;
  const clickhouseTb = tb(a.hotDays, a.storeBytesPerEvent);
  const warehouseTb = tb(a.retentionDays, a.storeBytesPerEvent);
  const archiveHotTb = tb(a.hotDays, a.archiveBytesPerEvent);
  const archiveTb = tb(a.retentionDays, a.archiveBytesPerEvent);

  // An ingest actor is billed while a window is open (a timer keeps it from hibernating); each
  // location has INGEST_SHARDS of them for every queue shard, each seeing its share of that shard.
  const rest = queueShards > 1 ? (1 - hottestShare) / (queueShards - 1) : 0;
  const shardShares = [hottestShare, ...Array<number>(queueShards - 1).fill(rest)];
  const ingestAwake = locationShares(a.locations).reduce(
    (n, share) =>
      n +
      shardShares.reduce((m, shard) => {
        const open = ((requests * share * shard) / ingestShards) * (INGEST_WINDOW_MS / 1000);
        return m + (ingestShards * open) / (1 + open);
      }, 0),
    0,
  );
  const lines = cloudflareLines(eventsPerSecond, design, { sessionShards, deliveriesPerSecond, ingestAwake });
  const perBillion = (name: string) => lines.find(([n]) => n.startsWith(name))?.[1] ?? 0;
  const r2WritesPerSecond =
    ((perBillion("R2 Class A: archive") + perBillion("R2 Class A: compaction")) * eventsPerSecond) / 1e9;
  const eventsPerMonth = eventsPerSecond * SECONDS_PER_MONTH;
  const cloudflareMonthly = (lines.reduce((n, [, , usd]) => n + usd, 0) * eventsPerMonth) / 1e9;
  const p = ESTIMATE_PRICES;
  const small = warehouseTb <= 64;
  const nodes = Math.max(2, Math.ceil(warehouseTb / (small ? 32 : 128)));
  const r2StorageMonthly = archiveHotTb * p.r2StandardTbMonth + (archiveTb - archiveHotTb) * p.r2InfrequentTbMonth;

  const limits = limitsAt({
    eventsPerSecond,
    hottestQueueMessages,
    queueCapacity,
    biggestPropertyEvents,
    maxConcurrency,
  });

  return {
    eventsPerSecond,
    requestsPerSecond: requests,
    busiestLocationRequests: busiest,
    busiestShardRequests: busiest * hottestShare,
    ingestShards,
    requestsPerMessage: rpm,
    messagesPerSecond: messages,
    queueShards,
    hottestQueueMessages,
    biggestPropertyEvents,
    sessionShards,
    eventsPerDelivery,
    deliveriesPerSecond,
    maxConcurrency,
    clickhouseRowsPerSecond,
    clickhouseInsertsPerSecond: deliveriesPerSecond * 2,
    clickhouseVcpus,
    clusterShards: Math.ceil(clickhouseVcpus / a.clusterNodeVcpus),
    clickhouseTb,
    r2WritesPerSecond,
    archiveTb,
    warehouseNodes: `${nodes} × ${small ? "ra3.xlplus" : "ra3.4xlarge"}`,
    warehouseTb,
    lines,
    cloudflareMonthly,
    clickhouseMonthly: clickhouseVcpus * p.clickhouseVcpuMonth + clickhouseTb * p.clickhouseTbMonth,
    redshiftMonthly:
      nodes * HOURS_PER_MONTH * (small ? p.redshiftXlplusHour : p.redshift4xlargeHour) +
      warehouseTb * p.redshiftTbMonth,
    r2StorageMonthly,
    limits,
  };
}

/**
 * The cost model's Cloudflare lines for this design, with the lines it prices at the spec's volume
 * (50B events a day) re-priced at `eventsPerSecond`: what is paid per second of wall clock (actors
 * awake, compaction per partition-hour) and how many calls share an actor's commit. The cost model
 * bills every actor awake all the time, which its volume nearly is; at 1K events/s most are not.
 */
function cloudflareLines(
  eventsPerSecond: number,
  design: Design,
  s: { sessionShards: number; deliveriesPerSecond: number; ingestAwake: number },
): Line[] {
  const secondsPerBillion = 1e9 / eventsPerSecond;
  const weights = zipfWeights(ASSUMPTIONS.properties);
  const eventsPerDelivery = eventsPerSecond / s.deliveriesPerSecond;
  const inDelivery = (p: number) => 1 - (1 - p) ** eventsPerDelivery;
  // Each property's actors: its PropertyDO and session actors, called once per delivery holding it;
  // a window of ACTOR_COMMIT_MS shares one commit (bench/cost-model.ts's rule).
  let commitsPerSecond = 0;
  let awake = 0;
  weights.forEach((p, i) => {
    const actors = 1 + (i === 0 ? s.sessionShards : 1);
    const calls = s.deliveriesPerSecond * inDelivery(p);
    commitsPerSecond += (actors * calls) / (1 + (calls * ACTOR_COMMIT_MS) / 1000);
    // Billed while active (durable-objects pricing): from a window's first call to its commit,
    // when the timer that kept it from hibernating ends; c·W / (1 + c·W) of the time.
    const open = (calls * ACTOR_COMMIT_MS) / 1000;
    awake += (actors * open) / (1 + open);
  });
  awake += s.ingestAwake;
  const extraSessionCalls =
    s.deliveriesPerSecond * inDelivery(weights[0] ?? 0) * (s.sessionShards - 1) * secondsPerBillion;
  const rows = commitsPerSecond * secondsPerBillion * MIX.rowsPerActorCall;
  const gbSeconds = awake * DO_GB * secondsPerBillion;
  // Compaction, per hour of wall clock: per partition-hour (each busy property's, and the pooled
  // one) a LIST, the manifest and the marker's rewrite, and its compacted files (≤ 25,000 rows).
  const busy = weights.filter((p) => p * eventsPerDelivery >= 1_000).length;
  const partitionHours = ((busy + 1) * secondsPerBillion) / 3600;
  const compaction = 3 * partitionHours + Math.max(partitionHours, 1e9 / 25_000);
  const base = priceLines(MIX, design, ASSUMPTIONS.properties);
  return [
    ...base.map((line): Line => {
      const [name] = line;
      if (name.startsWith("DO duration")) return [name, gbSeconds, gbSeconds * PRICE.doGbSecond];
      if (name.startsWith("DO SQLite")) return [name, rows, rows * PRICE.doRow];
      if (name.startsWith("R2 Class A: compaction")) return [name, compaction, compaction * PRICE.r2A];
      return line;
    }),
    ["Biggest property's other session actors", extraSessionCalls, extraSessionCalls * PRICE.doRequest],
  ];
}
