/**
 * POST /collect: parse at the edge, run the ingestion pipeline, answer 202 once the queue has the
 * accepted events. Nothing downstream runs in the request.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { parseCollectBody } from "../../core/ingest/collect-batch.ts";
import { describeIssues } from "../../core/issues.ts";
import { uuidv7 } from "../../core/uuid.ts";
import { readJsonBody } from "./body.ts";
import { collectCors } from "./cors.ts";
import { queueFailure } from "./failures.ts";
import { countRefusedRequests } from "./metrics.ts";
import { runPipeline } from "./pipeline.ts";
import { collectAnswer } from "./respond.ts";

export const collectRoutes = new Hono<{ Bindings: Env }>();

collectRoutes.use("/collect", collectCors);
collectRoutes.use("/collect", countRefusedRequests);

collectRoutes.post("/collect", async function collect(c) {
  const { body, bytes } = await readJsonBody(c.req.raw);
  const parsed = parseCollectBody(body, { nowMs: Date.now(), newId: uuidv7, enforceWindow: true, bodyBytes: bytes });
  if (!parsed.ok) throw new AppError(parsed.code, 400, describeIssues(parsed.issues));
  const result = await runPipeline(c.env, c.req.raw, parsed.candidates, { sourceProtocol: "tally" }).catch(
    queueFailure,
  );
  const single = !Array.isArray(body) && !(typeof body === "object" && body !== null && "events" in body);
  return c.json(collectAnswer(result, single), 202);
});
