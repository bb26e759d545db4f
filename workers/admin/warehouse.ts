/**
 * Warehouse backfills over HTTP (admin token): `POST /api/v1/admin/warehouse/load {from, to,
 * property?, force?}` starts one (202, or 409 with the running job), `GET /api/v1/admin/warehouse/load`
 * shows its progress. WarehouseDO does the work on alarms; `npm run warehouse:load` is a client of
 * these two routes.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { BackfillSpecSchema } from "../../core/warehouse/backfill.ts";
import { loadConfig } from "../../platform/config.ts";
import { requireAdmin } from "../auth.ts";
import { parseJson } from "../json.ts";

export const warehouseRoutes = new Hono<{ Bindings: Env }>();

const warehouseActor = (env: Env) => env.WAREHOUSE_DO.getByName("global");

warehouseRoutes.post("/api/v1/admin/warehouse/load", async function startBackfill(c) {
  await requireAdmin(c);
  const spec = await parseJson(c.req.raw, BackfillSpecSchema);
  if (!loadConfig(c.env).WAREHOUSE_URL)
    throw new AppError("warehouse_unavailable", 501, "no warehouse is configured (WAREHOUSE_URL is empty)");
  const { started, status } = await warehouseActor(c.env).startBackfill(spec, Date.now());
  if (!started)
    throw new AppError(
      "backfill_running",
      409,
      `warehouse load ${status.job_id} is still running (${status.hours_done}/${status.hours_total} hours)`,
    );
  return c.json(status, 202);
});

warehouseRoutes.get("/api/v1/admin/warehouse/load", async function backfillStatus(c) {
  await requireAdmin(c);
  const status = await warehouseActor(c.env).status();
  if (!status) throw new AppError("not_found", 404, "no warehouse load has run yet");
  return c.json(status);
});
