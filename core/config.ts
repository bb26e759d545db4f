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
});
export type Config = z.infer<typeof ConfigSchema>;
