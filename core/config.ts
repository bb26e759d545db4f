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
  /** Empty disables the admin API (every admin call answers 401). */
  ADMIN_TOKEN: z.string().default(""),
  EVENTS_QUEUE_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  REFUSAL_FLUSH_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  SESSION_BUCKETS: z.coerce.number().int().min(1).max(1_000_000).default(64),
  /** Days ClickHouse answers queries for; older ranges go to the warehouse. */
  HOT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** The query cache: Upstash Redis when both are set, the Workers Cache API otherwise. */
  UPSTASH_REDIS_REST_URL: z.union([z.url({ protocol: /^https?$/ }), z.literal("")]).default(""),
  UPSTASH_REDIS_REST_TOKEN: z.string().default(""),
  /** Our spec's query quota per property. */
  QUERY_LIMIT_PER_HOUR: z.coerce.number().int().min(1).default(1000),
});
export type Config = z.infer<typeof ConfigSchema>;
