/**
 * The sizing model's inputs (issue #19): the measured traffic, the platform limits, and every
 * assumption and estimate price, each naming its source; bench/sizing-model.ts computes from them.
 */
import { ConfigSchema } from "../core/config.ts";
import type { Measured } from "./cost-model.ts";

/** docs/cost.md's run at the realistic request mix (R=mix: 60% 1 event, 30% 2–5, 10% 6–20). */
export const MIX: Measured = {
  eventsPerRequest: 2.89,
  jsonBytesPerRequest: 878 * 2.89,
  compression: 12.2,
  rowsPerActorCall: 1.54,
  clickhouseRowsPerEvent: 33.0,
};

/** Platform limits (shared/REFERENCE.md) and the share of each we plan to use. */
export const LIMITS = {
  queueMessagesPerSecond: 5_000,
  /** Plan each queue to 80% of its ceiling: bursts and redeliveries need the rest. */
  queueUse: 0.8,
  actorRequestsPerSecond: 1_000,
  messagesPerBatch: 100,
  /** Cloudflare's ceiling on concurrent invocations of one queue consumer. */
  maxConcurrency: 250,
  sessionShards: 256,
};

/** Assumptions: each is a choice or an estimate, stated in docs/production.md. */
export const ASSUMPTIONS = {
  /** The cost model's traffic: 1,000 properties of Zipf volume (s = 1.1); the biggest has 17.9%. */
  properties: 1_000,
  /** A site's audience reaches a few dozen Cloudflare locations; Zipf (s = 1) over 25: the busiest 26%. */
  locations: 25,
  /** The consumer path measured 7.5–9.3K events/s per workerd core with its actors (docs/cost.md): the low end. */
  consumerCpuSecondsPerEvent: 1 / 7_500,
  /** Estimate: a chunk's waits on the network (R2 put, ClickHouse once-only check and inserts, two actor commits). */
  consumerWaitSecondsPerChunk: 0.6,
  /** Estimate: events/s one session actor should take (an eighth of what one core ran the whole consumer path at). */
  sessionActorEventsPerSecond: 1_000,
  /** Not measured: the whole consumer path ran 7.5K events/s per core; one PropertyDO has one thread. */
  propertyActorEventsPerSecond: 7_500,
  /** chDB's JSONEachRow insert rate per core (REFERENCE), charged to every row the tables and views write. */
  clickhouseRowsPerCoreSecond: 216_000,
  /** Twice the insert cores: merges and queries. */
  clickhouseHeadroom: 2,
  clusterNodeVcpus: 16,
  replicas: 2,
  /** `npm run bench` (archive), 2026-12: compacted Parquet 35.0 bytes an event; compaction 29.2K rows/s. */
  archiveBytesPerEvent: 35,
  compactionRowsPerSecond: 29_174,
  /** Estimate: ClickHouse and the warehouse hold the events about as compactly, plus half again in sessions and rollups. */
  storeBytesPerEvent: 35 * 1.5,
  /** README "Benchmark": the warehouse load's 10,600 rows/s (events and sessions) into PostgreSQL. */
  warehouseRowsPerSecond: 10_600,
  /** consumers/schedule.ts: compaction's budget in its hourly Cron run (:10). */
  compactionBudgetSeconds: ConfigSchema.shape.COMPACTION_BUDGET_SECONDS.parse(undefined),
  /** consumers/schedule.ts: the warehouse jobs' budget in theirs (:40). */
  warehouseBudgetSeconds: ConfigSchema.shape.WAREHOUSE_BUDGET_SECONDS.parse(undefined),
  hotDays: ConfigSchema.shape.HOT_RETENTION_DAYS.parse(undefined),
  retentionDays: ConfigSchema.shape.ARCHIVE_RETENTION_DAYS.parse(undefined),
};

/** List prices for the estimates (not Cloudflare's, which are bench/cost-model.ts PRICE). */
export const ESTIMATE_PRICES = {
  /** clickhouse.com billing examples, Scale tier, AWS us-east-1: 2 replicas × 2 vCPU $436.95 a month. */
  clickhouseVcpuMonth: 436.95 / 4,
  /** The same page: 1 TB of data and its backup, $50.60 a month. */
  clickhouseTbMonth: 50.6,
  /** AWS us-east-1 on-demand: ra3.xlplus $1.086/h (32 TB managed storage a node), ra3.4xlarge $3.26/h (128 TB); RMS $0.024/GB-month. */
  redshiftXlplusHour: 1.086,
  redshift4xlargeHour: 3.26,
  redshiftTbMonth: 24,
  /** R2 (REFERENCE): Standard $0.015/GB-month for 90 days, then Infrequent Access $0.01. */
  r2StandardTbMonth: 15,
  r2InfrequentTbMonth: 10,
};
