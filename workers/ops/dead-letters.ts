/**
 * Dead letters over HTTP (admin token; issue #18), under /api/v1/ops/dead-letters: list them with
 * their last error, show one, replay one or all into the events queue after a fix, drop one with a
 * reason (an audit record stays), and read the audit of replays and drops. `npm run dlq` is a
 * client of these routes. Records and their layout: core/ops/dead-letter.ts.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { ArchiveStore } from "../../core/archive/store.ts";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import {
  DeadLetterIdSchema,
  type DeadLetterRecord,
  DropRequestSchema,
  limitSchema,
  type ReplayAllAnswer,
  summaryOf,
} from "../../core/ops/dead-letter.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import {
  auditEntries,
  decodeBody,
  detailOf,
  dropDeadLetter,
  pageOfDeadLetters,
  readDeadLetter,
  replayDeadLetter,
  restoreBody,
} from "../../platform/dead-letters.ts";
import { log } from "../../platform/log.ts";
import { countMetric } from "../../platform/ops-metrics.ts";
import { requireAdmin } from "../auth.ts";
import { parseJson } from "../json.ts";

type Ctx = Context<{ Bindings: Env }>;

export const deadLetterRoutes = new Hono<{ Bindings: Env }>();

const BASE = "/api/v1/ops/dead-letters";
/** Replays per replay-all call: each is a queue send and two store writes, within one request's budget. */
export const REPLAY_ALL_BATCH = 25;

const ListQuerySchema = z.object({ limit: limitSchema(50, 200), cursor: DeadLetterIdSchema.optional() });
const AuditQuerySchema = z.object({ limit: limitSchema(50, 500) });
const ReplayAllQuerySchema = z.object({
  limit: limitSchema(REPLAY_ALL_BATCH, REPLAY_ALL_BATCH),
  cursor: DeadLetterIdSchema.optional(),
});

function query<S extends z.ZodType>(c: Ctx, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
  return parsed.data;
}

/** The record an `:id` names: 400 for an id outside the pattern, 404 when there is none. */
async function recordOf(c: Ctx, store: ArchiveStore): Promise<DeadLetterRecord> {
  const id = DeadLetterIdSchema.safeParse(c.req.param("id"));
  if (!id.success) throw new AppError("invalid_request", 400, `id: ${id.error.issues[0]?.message ?? "is invalid"}`);
  const record = await readDeadLetter(store, id.data);
  if (!record)
    throw new AppError("dead_letter_not_found", 404, `no dead letter ${id.data} (replayed, dropped or never kept)`);
  return record;
}

/** Sends one record back to the events queue; 422 for a body that cannot be decoded (drop it instead). */
async function replay(env: Env, store: ArchiveStore, record: DeadLetterRecord): Promise<number> {
  const decoded = decodeBody(restoreBody(record.body).body);
  if (!decoded)
    throw new AppError(
      "dead_letter_undecodable",
      422,
      `dead letter ${record.id} does not decode as an events message (${record.last_error}); it cannot be replayed: drop it with a reason`,
    );
  await replayDeadLetter(env, store, record, Date.now());
  countMetric("dead_letters_replayed");
  log.info("dead letter replayed", { dead_letter_id: record.id, events: decoded.events.length });
  return decoded.events.length;
}

deadLetterRoutes.get(BASE, async function listDeadLetters(c) {
  await requireAdmin(c);
  const q = query(c, ListQuerySchema);
  const page = await pageOfDeadLetters(await archiveStore(c.env), q.cursor, q.limit);
  return c.json({ dead_letters: page.records.map(summaryOf), cursor: page.cursor });
});

deadLetterRoutes.get(`${BASE}/audit`, async function deadLetterAudit(c) {
  await requireAdmin(c);
  const q = query(c, AuditQuerySchema);
  return c.json({ audit: await auditEntries(await archiveStore(c.env), q.limit) });
});

deadLetterRoutes.post(`${BASE}/replay-all`, async function replayAll(c) {
  await requireAdmin(c);
  const q = query(c, ReplayAllQuerySchema);
  const store = await archiveStore(c.env);
  const page = await pageOfDeadLetters(store, q.cursor, q.limit);
  const answer: ReplayAllAnswer = { replayed: [], skipped: [], events: 0, cursor: null };
  for (const record of page.records) {
    if (!record.decodes) {
      answer.skipped.push(record.id);
      continue;
    }
    answer.events += await replay(c.env, store, record);
    answer.replayed.push(record.id);
  }
  // Replayed records have left the list, so the next call goes on after the last one looked at.
  answer.cursor = page.cursor;
  return c.json(answer, 202);
});

deadLetterRoutes.get(`${BASE}/:id`, async function showDeadLetter(c) {
  await requireAdmin(c);
  return c.json(detailOf(await recordOf(c, await archiveStore(c.env))));
});

deadLetterRoutes.post(`${BASE}/:id/replay`, async function replayOne(c) {
  await requireAdmin(c);
  const store = await archiveStore(c.env);
  const record = await recordOf(c, store);
  const events = await replay(c.env, store, record);
  return c.json({ replayed: record.id, events }, 202);
});

deadLetterRoutes.delete(`${BASE}/:id`, async function dropOne(c) {
  await requireAdmin(c);
  const { reason } = await parseJson(c.req.raw, DropRequestSchema);
  const store = await archiveStore(c.env);
  const record = await recordOf(c, store);
  const audit = await dropDeadLetter(store, record, reason, Date.now());
  countMetric("dead_letters_dropped");
  log.warn("dead letter dropped", { dead_letter_id: record.id, events: record.events });
  return c.json({ dropped: record.id, audit });
});
