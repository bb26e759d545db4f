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
});
export type Config = z.infer<typeof ConfigSchema>;
