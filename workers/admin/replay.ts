/**
 * The replay job over HTTP (admin token): `POST /api/v1/admin/replay {from, to, property?, target?}`
 * starts it (202, or 409 with the running job), `GET /api/v1/admin/replay` shows its progress.
 * `npm run replay` is a client of these two routes.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { ReplaySpecSchema } from "../../core/replay/replay.ts";
import { requireAdmin } from "../auth.ts";
import { parseJson } from "../json.ts";

export const replayRoutes = new Hono<{ Bindings: Env }>();

const replayActor = (env: Env) => env.REPLAY_DO.getByName("global");

replayRoutes.post("/api/v1/admin/replay", async function startReplay(c) {
  await requireAdmin(c);
  const spec = await parseJson(c.req.raw, ReplaySpecSchema);
  const { started, status } = await replayActor(c.env).start(spec, Date.now());
  if (!started)
    throw new AppError(
      "replay_running",
      409,
      `replay ${status.job_id} is still running (${status.hours_done}/${status.hours_total} hours)`,
    );
  return c.json(status, 202);
});

replayRoutes.get("/api/v1/admin/replay", async function replayStatus(c) {
  await requireAdmin(c);
  const status = await replayActor(c.env).status();
  if (!status) throw new AppError("not_found", 404, "no replay has run yet");
  return c.json(status);
});
