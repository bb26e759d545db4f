/** String vars and secrets from `Env`, parsed once into a typed Config. */
import { z } from "zod";
import { AppError } from "../core/errors.ts";

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

const cache = new WeakMap<object, Config>();

/** Parses the environment once per isolate; a misconfiguration is a clear 500, not a crash later. */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new AppError("misconfigured", 500, `Worker configuration is invalid: ${fields}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
