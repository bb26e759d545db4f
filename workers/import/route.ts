/**
 * POST /api/v1/import?property=…: history in NDJSON, streamed in chunks of 500 lines through the
 * same pipeline (enrichment, queue) as live traffic, with any timestamps. Each line succeeds or
 * fails alone; the answer counts both and lists the first 100 failures by line number.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { sha256Hex } from "../../core/hash.ts";
import { MAX_EVENT_BYTES } from "../../core/ingest/collect-batch.ts";
import { type ImportLine, judgeImportText } from "../../core/ingest/import-line.ts";
import { describeIssues } from "../../core/issues.ts";
import { loadConfig } from "../../platform/config.ts";
import { forgetProperty, propertyConfig, propertyStub } from "../../platform/properties.ts";
import { requirePropertyAccess } from "../auth.ts";
import { queueFailure } from "../collect/failures.ts";
import { alreadyCounted, countedAs, countRateLimited, countRefusedRequests } from "../collect/metrics.ts";
import { runPipeline } from "../collect/pipeline.ts";
import { importTooLarge, MAX_IMPORT_BYTES, MAX_IMPORT_LINES, takeImportBudget } from "./limits.ts";
import { ndjsonLines } from "./lines.ts";

export const importRoutes = new Hono<{ Bindings: Env }>();
importRoutes.use("/api/v1/import", countRefusedRequests);

const CHUNK = 500;
const MAX_ERRORS = 100;

interface Tally {
  accepted: number;
  rejected: number;
  errors: { line: number; code: string; message: string }[];
  /** The earliest accepted event's time: history before the property's creation moves "All time". */
  earliest?: number;
}

/** One chunk's events, for one property: paid for in its import budget, then through the pipeline. */
interface Chunk {
  propertyId: string;
  lines: ImportLine[];
  lineNos: number[];
}

async function flush(env: Env, request: Request, { propertyId, lines: chunk, lineNos }: Chunk, tally: Tally) {
  if (chunk.length === 0) return;
  await takeImportBudget(env.PROPERTY_RATE_LIMITER, propertyId, chunk.length).catch((error: unknown) => {
    if (error instanceof AppError && error.status === 429) {
      countRateLimited("import", chunk.length);
      alreadyCounted(error);
    }
    throw error;
  });
  const result = await runPipeline(
    env,
    request,
    chunk.map((l) => l.candidate),
    { sourceProtocol: "import", imported: true, geo: (i) => chunk[i]?.geo },
  ).catch(queueFailure);
  tally.accepted += result.accepted.length;
  for (const e of result.accepted) tally.earliest = Math.min(tally.earliest ?? e.event_timestamp, e.event_timestamp);
  tally.rejected += result.rejections.length;
  for (const r of result.rejections) {
    if (tally.errors.length < MAX_ERRORS)
      tally.errors.push({ line: lineNos[r.index] ?? 0, code: r.code, message: describeIssues(r.issues) });
  }
}

importRoutes.post("/api/v1/import", async function importEvents(c) {
  const propertyId = c.req.query("property") ?? "";
  if (!propertyId) throw new AppError("invalid_request", 400, "property: query parameter is required");
  await requirePropertyAccess(c, propertyId, "write");
  if (!(await propertyConfig(c.env, propertyId)))
    throw new AppError("property_not_found", 404, `property ${propertyId} does not exist`);
  if (!c.req.raw.body) throw new AppError("invalid_body", 400, "body: send NDJSON, one event per line");
  if (Number(c.req.header("content-length") ?? "0") > MAX_IMPORT_BYTES) {
    await c.req.raw.body.cancel();
    throw importTooLarge(`exceeds ${MAX_IMPORT_BYTES} bytes`);
  }
  const retentionDays = loadConfig(c.env).ARCHIVE_RETENTION_DAYS;
  const limits = { maxBytes: MAX_IMPORT_BYTES, maxLines: MAX_IMPORT_LINES, tooLarge: importTooLarge };
  const tally: Tally = { accepted: 0, rejected: 0, errors: [] };
  let chunk: ImportLine[] = [];
  let lineNos: number[] = [];
  try {
    for await (const [lineNo, text] of ndjsonLines(c.req.raw.body, MAX_EVENT_BYTES, limits)) {
      // A line without an event_id gets one derived from its text, so importing a file twice
      // stores it once (#15); a random id would make every run new events.
      const lineId = `imp-${(await sha256Hex(`${propertyId}\n${text}`)).slice(0, 40)}`;
      const options = {
        nowMs: Date.now(),
        newId: () => lineId,
        enforceWindow: false,
        bodyBytes: text.length,
        retentionDays,
      };
      chunk.push(judgeImportText(text, chunk.length, lineNo, propertyId, options));
      lineNos.push(lineNo);
      if (chunk.length === CHUNK) {
        await flush(c.env, c.req.raw, { propertyId, lines: chunk, lineNos }, tally);
        chunk = [];
        lineNos = [];
      }
    }
    await flush(c.env, c.req.raw, { propertyId, lines: chunk, lineNos }, tally);
  } catch (cause) {
    // Whatever was queued before the failure stays accepted; say so, so the client resumes correctly.
    // A failure of the queue arrives as queueFailure's 503; anything else is a bug, and says so.
    const known = cause instanceof AppError;
    throw countedAs(
      cause,
      new AppError(
        known ? cause.code : "internal",
        known ? cause.status : 500,
        `${known ? cause.message : "the import failed"}; ${tally.accepted} events before it were accepted`,
        { cause, retryAfterSeconds: known ? cause.retryAfterSeconds : undefined },
      ),
    );
  }
  const { earliest, ...counts } = tally;
  if (earliest !== undefined) {
    await propertyStub(c.env, propertyId).noteHistory(earliest);
    forgetProperty(propertyId);
  }
  return c.json({ property_id: propertyId, ...counts }, 200);
});
