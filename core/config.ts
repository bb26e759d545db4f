/** The Worker's configuration contract: vars and secrets, parsed once into typed values. */
import { z } from "zod";

export const ConfigSchema = z.object({
  CLICKHOUSE_URL: z.url({ protocol: /^https?$/ }),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default("default"),
  CLICKHOUSE_USER: z.string().min(1).default("default"),
  CLICKHOUSE_PASSWORD: z.string().default(""),
  /**
   * Empty disables the admin API (every admin call answers 401). Otherwise at least 32 characters:
   * it guards every property, so it must not be guessable online or offline.
   */
  ADMIN_TOKEN: z
    .union([z.literal(""), z.string().min(32, "must be at least 32 random characters (or empty to disable)")])
    .default(""),
  /**
   * The key of browser WebSocket tokens. Empty: derived from ADMIN_TOKEN by HKDF. HKDF is fast, so
   * it is the 32-character minimum that keeps a token holder from guessing ADMIN_TOKEN offline;
   * a separate secret also lets the two be rotated apart.
   */
  WS_TOKEN_SECRET: z
    .union([z.literal(""), z.string().min(32, "must be at least 32 random characters (or empty to derive one)")])
    .default(""),
  /**
   * The ClickHouse user queries run as: read-only, with execution-time, memory and result limits
   * (README "Locked-down queries"). Empty: the writing user, with the same limits sent per query.
   */
  CLICKHOUSE_QUERY_USER: z.string().default(""),
  CLICKHOUSE_QUERY_PASSWORD: z.string().default(""),
  /**
   * A self-managed cluster's name (docs/production.md): deletes and TTL changes then run ON CLUSTER
   * against the `_local` tables behind the Distributed ones. Empty: one server or ClickHouse Cloud.
   * An identifier, since it is written into DDL.
   */
  CLICKHOUSE_CLUSTER: z.union([z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.literal("")]).default(""),
  /** Per-statement limits on query-API SQL (ClickHouse max_execution_time, max_memory_usage, max_result_rows). */
  QUERY_MAX_EXECUTION_SECONDS: z.coerce.number().int().min(1).max(600).default(15),
  QUERY_MAX_MEMORY_BYTES: z.coerce.number().int().min(1_000_000).default(4_000_000_000),
  QUERY_MAX_RESULT_ROWS: z.coerce.number().int().min(1).default(1_000_000),
  /** Days the raw user agent is kept (for the bot audit); after that only its parsed fields remain. */
  RAW_USER_AGENT_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  EVENTS_QUEUE_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * The ingest stage (durable-objects/ingest-do.ts): actors per Cloudflare location that pack the
   * location's requests into compressed queue messages. 0 sends from each isolate instead.
   */
  INGEST_SHARDS: z.coerce.number().int().min(0).max(256).default(0),
  /** How long an ingest actor gathers requests into one message (the latency it adds). */
  INGEST_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(10),
  /**
   * How long session and property actors gather calls into one storage commit (group commit: a
   * call returns after the commit that holds it). Longer: fewer SQLite rows, later live numbers.
   */
  ACTOR_COMMIT_MS: z.coerce.number().int().min(0).max(5000).default(150),
  REFUSAL_FLUSH_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  SESSION_BUCKETS: z.coerce.number().int().min(1).max(1_000_000).default(64),
  /** Days ClickHouse answers queries for; older ranges go to the warehouse. */
  HOT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /**
   * The warehouse (Redshift in production, reached through Hyperdrive; the embedded PostgreSQL in
   * development), which answers ranges older than HOT_RETENTION_DAYS up to its frontier. Empty: no
   * warehouse; ClickHouse then keeps every day (hot retention needs the warehouse) and answers.
   */
  WAREHOUSE_URL: z.union([z.url({ protocol: /^postgres(ql)?$/ }), z.literal("")]).default(""),
  /** Where a new warehouse's hourly loads start (`YYYY-MM-DD`); empty: the archive's oldest hour. */
  WAREHOUSE_LOAD_START: z.union([z.iso.date(), z.literal("")]).default(""),
  /** The query cache: Upstash Redis when both are set, the Workers Cache API otherwise. */
  UPSTASH_REDIS_REST_URL: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
  UPSTASH_REDIS_REST_TOKEN: z.string().default(""),
  /** Our spec's query quota per property. */
  QUERY_LIMIT_PER_HOUR: z.coerce.number().int().min(1).default(1000),
  /**
   * The event archive: any S3-compatible store when endpoint and bucket are both set (R2's S3 API,
   * AWS S3 for Redshift COPY/Spectrum), else the ARCHIVE_BUCKET R2 binding. Keys are secrets.
   */
  ARCHIVE_S3_ENDPOINT: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
  ARCHIVE_S3_BUCKET: z.union([z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/), z.literal("")]).default(""),
  ARCHIVE_S3_REGION: z.string().min(1).default("auto"),
  ARCHIVE_S3_ACCESS_KEY_ID: z.string().default(""),
  ARCHIVE_S3_SECRET_ACCESS_KEY: z.string().default(""),
  /** The compliance period: days archived events are kept (the bucket's lifecycle rule deletes them after). */
  ARCHIVE_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(730),
  /** The events consumer's max_retries (wrangler.toml): its last attempt keeps a failing message's error. */
  EVENTS_MAX_RETRIES: z.coerce.number().int().min(0).max(100).default(10),
  /**
   * The hourly Cron runs' budgets (consumers/scheduled.ts): compaction's, in an invocation of 300 s
   * of CPU (`[limits] cpu_ms`), and the warehouse jobs', mostly I/O, in the 15 minutes a Cron
   * invocation may run. What a run cannot reach, the next one does. The dev stack sets 20 s, so
   * `curl /__scheduled` answers in seconds even with months to load.
   */
  COMPACTION_BUDGET_SECONDS: z.coerce.number().int().min(1).max(280).default(240),
  WAREHOUSE_BUDGET_SECONDS: z.coerce.number().int().min(1).max(840).default(600),
  /** Seconds an isolate gathers pipeline metrics before writing them (0: at every chance, for tests). */
  OPS_FLUSH_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  /**
   * Where the deployment is reached (`https://tally.example.com`): the links in invitations and
   * scheduled reports. Empty: the origin of the request that made the link (a digest sent by the Cron
   * then links to the dashboard only when this is set).
   */
  PUBLIC_URL: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
  /**
   * The SMTP transport of email digests, a secret: `smtp://user:password@host:587` (STARTTLS when
   * offered) or `smtps://…:465` (TLS from the start). Empty: email digests are refused; Slack ones work.
   */
  SMTP_URL: z.union([z.url({ protocol: /^smtps?$/ }), z.literal("")]).default(""),
  /** The digests' sender (`Tally <reports@example.com>`). */
  MAIL_FROM: z.string().min(3).default("Tally <reports@localhost>"),
});
export type Config = z.infer<typeof ConfigSchema>;
