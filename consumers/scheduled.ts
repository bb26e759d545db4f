/**
 * The Cron Trigger (wrangler.toml `[triggers] crons`, hourly at :10): compacts every closed hour
 * with a pending marker (core/archive/compaction.ts), within a time budget; what is left waits for
 * the next run, which resumes safely. Uncompacted files are readable as they are.
 */
import { compactPending } from "../core/archive/compaction.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";

/**
 * Wall-clock budget of one run. A Worker invocation has 30 s of CPU by default and compaction is
 * mostly CPU (decode + encode), so no step starts after 20 s; one step (≤ 25,000 rows, ~1–2 s in
 * bench/archive.ts) fits in the rest.
 */
export const COMPACTION_BUDGET_MS = 20_000;

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const started = Date.now();
  const report = await compactPending(await archiveStore(env), zstdCodec, {
    deadline: started + COMPACTION_BUDGET_MS,
    log: (line) => console.error(line),
  });
  console.log(
    JSON.stringify({ tally_metric: "archive_compaction", cron: controller.cron, ms: Date.now() - started, ...report }),
  );
}
