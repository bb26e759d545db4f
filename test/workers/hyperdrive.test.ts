/**
 * The warehouse through Hyperdrive (issue #19), as production reaches Redshift: with a
 * WAREHOUSE_HYPERDRIVE binding the Worker takes the warehouse's address from it, whatever
 * WAREHOUSE_URL says. Miniflare's local Hyperdrive proxy stands in for Cloudflare's pool, in front
 * of the embedded PostgreSQL; a binding to a closed port shows the binding is what is used.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ReadinessSchema } from "../../core/ops/readiness.ts";
import { loadConfig } from "../../platform/config.ts";
import { app } from "../../workers/app.ts";
import { ADMIN } from "./helpers.ts";

const testEnv = env as typeof env & { TEST_WAREHOUSE_HYPERDRIVE: Hyperdrive; TEST_CLOSED_HYPERDRIVE: Hyperdrive };

async function warehouseCheck(vars: Partial<Env>) {
  const ctx = createExecutionContext();
  const request = new Request("http://tally.test/readyz", { headers: ADMIN });
  const res = await app.fetch(request, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return ReadinessSchema.parse(await res.json()).checks.warehouse;
}

describe("the warehouse through a Hyperdrive binding", () => {
  it("takes the binding's connection string over WAREHOUSE_URL", () => {
    const config = loadConfig({ ...env, WAREHOUSE_URL: "", WAREHOUSE_HYPERDRIVE: testEnv.TEST_WAREHOUSE_HYPERDRIVE });
    expect(config.WAREHOUSE_URL).toBe(testEnv.TEST_WAREHOUSE_HYPERDRIVE.connectionString);
    expect(config.WAREHOUSE_URL).toMatch(/^postgres(ql)?:\/\//);
  });

  it("answers the readiness check through the binding, and names the warehouse down when it points nowhere", async () => {
    const up = await warehouseCheck({ WAREHOUSE_URL: "", WAREHOUSE_HYPERDRIVE: testEnv.TEST_WAREHOUSE_HYPERDRIVE });
    expect(up.status).toBe("ok");
    const down = await warehouseCheck({
      WAREHOUSE_URL: env.WAREHOUSE_URL,
      WAREHOUSE_HYPERDRIVE: testEnv.TEST_CLOSED_HYPERDRIVE,
    });
    expect(down.status).toBe("down");
    expect(down.required).toBe(false);
    const none = await warehouseCheck({ WAREHOUSE_URL: "" });
    expect(none.status).toBe("not_configured");
  });
});
