/**
 * One import run: file → items → chunks → POST /api/v1/import, one chunk at a time (so memory holds
 * one chunk whatever the file's size), with progress and a summary. The CLI is scripts/import.ts.
 */
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import type { Ga4Drop } from "./ga4-row.ts";
import { createProgress, type ImportSummary, type Output, rate } from "./progress.ts";
import { chunks, ImportStopped, type LineError, sendChunk } from "./send.ts";
import { type Format, physicalLines, type SourceContext, SourceError, type SourceItem, sourceItems } from "./source.ts";

export interface ImportOptions {
  file: string;
  format: Format;
  propertyId: string;
  url: string;
  key: string;
  batchLines: number;
  maxErrors: number;
  ga4Skip: ReadonlySet<string>;
  /** Lines before this one are not sent (resuming a run that stopped). */
  fromLine: number;
  maxAttempts?: number;
}

export interface ImportDeps {
  progress?: Output;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Checked between chunks: true stops the run after the chunk in flight (Ctrl-C). */
  shouldStop?: () => boolean;
}

async function* from(items: AsyncIterable<SourceItem>, line: number): AsyncGenerator<SourceItem> {
  for await (const item of items) if (item.line >= line) yield item;
}

/** Runs an import to the end of the file, or until the server refuses or stays unreachable. */
export async function runImport(o: ImportOptions, deps: ImportDeps = {}): Promise<ImportSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const totalBytes = statSync(o.file).size;
  const stream = createReadStream(o.file, { highWaterMark: 256 * 1024 });
  const ctx: SourceContext = { fileKey: basename(o.file), ga4Skip: o.ga4Skip, dropped: new Map<Ga4Drop, number>() };
  const summary: ImportSummary = {
    file: o.file,
    format: o.format,
    property_id: o.propertyId,
    bytes: 0,
    sent: 0,
    accepted: 0,
    rejected: 0,
    rejected_locally: 0,
    skipped: {},
    dropped: {},
    chunks: 0,
    retries: 0,
    seconds: 0,
    events_per_second: 0,
    errors: [],
  };
  const progress = deps.progress ? createProgress(deps.progress, now) : undefined;
  const state = () => ({
    bytes: stream.bytesRead,
    totalBytes,
    accepted: summary.accepted,
    rejected: summary.rejected + summary.rejected_locally,
    skipped: Object.values(summary.skipped).reduce((a, b) => a + b, 0),
    sent: summary.sent,
    elapsedMs: now() - started,
  });
  const keep = (errors: LineError[]) => {
    for (const e of errors.sort((a, b) => a.line - b.line))
      if (summary.errors.length < o.maxErrors) summary.errors.push(e);
  };
  let answeredThrough = o.fromLine - 1;
  try {
    const items = from(sourceItems(physicalLines(stream), o.format, ctx), o.fromLine);
    for await (const chunk of chunks(items, o.batchLines)) {
      const local: LineError[] = [];
      for (const item of chunk.local) {
        if (item.kind === "skipped") summary.skipped[item.reason] = (summary.skipped[item.reason] ?? 0) + 1;
        else {
          summary.rejected_locally++;
          local.push({ line: item.line, code: item.code, message: item.message });
        }
      }
      let answered: LineError[] = [];
      if (chunk.events.length > 0) {
        const answer = await sendChunk(chunk, {
          url: o.url,
          propertyId: o.propertyId,
          key: o.key,
          maxAttempts: o.maxAttempts ?? 8,
          fetch: deps.fetch,
          sleep: deps.sleep,
          now,
          onRetry: (attempt, waitMs, why) => {
            summary.retries++;
            deps.progress?.write(
              `\nretrying lines ${chunk.lines[0]}-${chunk.lines.at(-1)} in ${waitMs} ms (attempt ${attempt}): ${why}\n`,
            );
          },
        });
        summary.chunks++;
        summary.sent += chunk.events.length;
        summary.accepted += answer.accepted;
        summary.rejected += answer.rejected;
        answered = answer.errors;
      }
      keep([...local, ...answered]);
      answeredThrough = Math.max(answeredThrough, chunk.lines.at(-1) ?? 0, chunk.local.at(-1)?.line ?? 0);
      progress?.update(state());
      if (deps.shouldStop?.()) {
        summary.interrupted = true;
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof ImportStopped) && !(error instanceof SourceError)) throw error;
    summary.stopped = error.message;
  } finally {
    stream.destroy();
  }
  if (summary.stopped || summary.interrupted) summary.resume_from_line = answeredThrough + 1;
  for (const [reason, n] of ctx.dropped) summary.dropped[reason] = n;
  summary.bytes = summary.stopped || summary.interrupted ? stream.bytesRead : totalBytes;
  summary.seconds = (now() - started) / 1000;
  summary.events_per_second = rate(summary.sent, now() - started);
  progress?.finish({ ...state(), bytes: summary.bytes });
  return summary;
}

/** 2 when the run could not finish, 130 when interrupted, 1 when nothing was accepted but something was refused (or `strict` and anything was), else 0. */
export function exitCode(s: ImportSummary, strict: boolean): number {
  if (s.stopped) return 2;
  if (s.interrupted) return 130;
  const rejected = s.rejected + s.rejected_locally;
  if (rejected > 0 && (strict || s.accepted === 0)) return 1;
  return 0;
}
