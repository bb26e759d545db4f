/**
 * POST /collect: parse at the edge, then hand the accepted batch to the `events` queue.
 * Nothing downstream runs in the request; once the queue has the events, the answer is 202.
 */
import { Hono } from "hono";
import { parseCollectBody } from "../../core/collect-batch.ts";
import { AppError } from "../../core/errors.ts";
import { describeIssues } from "../../core/issues.ts";
import { packMessages } from "../../core/queue-message.ts";
import { uuidv7 } from "../../core/uuid.ts";
import { readJsonBody } from "./body.ts";

export const collectRoutes = new Hono<{ Bindings: Env }>();

collectRoutes.post("/collect", async function collect(c) {
  const body = await readJsonBody(c.req.raw);
  const receivedAt = Date.now();
  const parsed = parseCollectBody(body, receivedAt, uuidv7);
  if (!parsed.ok) throw new AppError(parsed.code, 400, describeIssues(parsed.issues));
  const messages = packMessages(parsed.events, receivedAt);
  try {
    await c.env.EVENTS_QUEUE.sendBatch(messages.map((body) => ({ body, contentType: "json" })));
  } catch (cause) {
    // Not accepted: the client keeps the events and retries (its event_ids make that safe).
    throw new AppError("queue_unavailable", 503, "Events could not be queued; retry later", { cause });
  }
  const ids = parsed.events.map((e) => e.event_id);
  return c.json(
    ids.length === 1 ? { status: "accepted", event_id: ids[0] } : { status: "accepted", event_ids: ids },
    202,
  );
});
