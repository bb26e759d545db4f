/**
 * The sizing of docs/production.md as markdown (issue #19): the settings and sizes per rate, the
 * Cloudflare lines per billion events, and the limits each size passes. `npm run bench:sizing`
 * prints it; test/unit/production-doc.test.ts holds the doc's block equal to `sizingSection()`.
 */
import { fmt, SECONDS_PER_MONTH, type Sizing, size, usd } from "./sizing-model.ts";

/** The sizes docs/production.md plans for, in events per second sustained. */
export const SIZES = [1_000, 100_000, 500_000] as const;

/** A markdown table, its columns padded as a formatter would. */
function markdown(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c] ?? 0)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

const perSecond = (x: number) => `${fmt(x)}/s`;

/** The settings and sizes, one column per size. */
export function sizingTable(sizes: readonly number[] = SIZES): string {
  const s = sizes.map(size);
  const row = (label: string, cell: (x: Sizing) => string) => [label, ...s.map(cell)];
  const monthly = (x: Sizing) => x.cloudflareMonthly + x.r2StorageMonthly + x.clickhouseMonthly + x.redshiftMonthly;
  const billions = (x: Sizing) => (x.eventsPerSecond * SECONDS_PER_MONTH) / 1e9;
  return markdown(
    ["", ...s.map((x) => `${fmt(x.eventsPerSecond)} events/s`)],
    [
      row("requests (2.89 events each)", (x) => perSecond(x.requestsPerSecond)),
      row("busiest location's requests", (x) => perSecond(x.busiestLocationRequests)),
      row("`EVENTS_QUEUE_SHARDS`", (x) => String(x.queueShards)),
      row("busiest location's requests on the busiest queue", (x) => perSecond(x.busiestShardRequests)),
      row("`INGEST_SHARDS` (per queue; ≤ 1,000 requests/s an actor)", (x) => String(x.ingestShards)),
      row("requests per queue message", (x) => x.requestsPerMessage.toFixed(1)),
      row("queue messages", (x) => perSecond(x.messagesPerSecond)),
      row("busiest queue (plan ≤ 4,000/s)", (x) => perSecond(x.hottestQueueMessages)),
      row("biggest property (17.9%)", (x) => `${perSecond(x.biggestPropertyEvents)} events`),
      row("its `session_shards` (`SESSION_BUCKETS`)", (x) => String(x.sessionShards)),
      row("events per consumer delivery", (x) => fmt(x.eventsPerDelivery)),
      row("`max_concurrency` per events queue", (x) => String(x.maxConcurrency)),
      row("ClickHouse rows written (tables + views)", (x) => perSecond(x.clickhouseRowsPerSecond)),
      row("ClickHouse inserts", (x) => perSecond(x.clickhouseInsertsPerSecond)),
      row("ClickHouse Cloud vCPUs (≥ 2 replicas)", (x) => String(x.clickhouseVcpus)),
      row("or a cluster: shards × replicas (16 vCPU)", (x) => `${x.clusterShards} × 2`),
      row("ClickHouse storage (90 days)", (x) => `${fmt(x.clickhouseTb)} TB`),
      row("R2 writes (Class A)", (x) => perSecond(x.r2WritesPerSecond)),
      row("archive (730 days)", (x) => `${fmt(x.archiveTb)} TB`),
      row("Redshift (730 days)", (x) => `${x.warehouseNodes}, ${fmt(x.warehouseTb)} TB`),
      row("Cloudflare, a month", (x) => usd(x.cloudflareMonthly)),
      row("R2 storage, a month (after 730 days)", (x) => usd(x.r2StorageMonthly)),
      row("ClickHouse Cloud, a month (estimate)", (x) => usd(x.clickhouseMonthly)),
      row("Redshift, a month (estimate)", (x) => usd(x.redshiftMonthly)),
      row("**total, a month**", (x) => `**${usd(monthly(x))}**`),
      row("**per billion events**", (x) => `**${usd(monthly(x) / billions(x))}**`),
    ],
  );
}

/** The Cloudflare lines per billion events, one column per size. */
export function sizingLines(sizes: readonly number[] = SIZES): string {
  const s = sizes.map(size);
  const names = (s[0]?.lines ?? []).map(([name]) => name);
  const total = (x: Sizing) => x.lines.reduce((n, [, , d]) => n + d, 0);
  return markdown(
    ["per billion events", ...s.map((x) => `${fmt(x.eventsPerSecond)} events/s`)],
    [
      ...names.map((name, i) => [name, ...s.map((x) => usd(x.lines[i]?.[2] ?? 0))]),
      ["**total**", ...s.map((x) => `**${usd(total(x))}**`)],
    ],
  );
}

/** What each size needs beyond a platform limit or a measured rate, as a list. */
export function sizingLimits(sizes: readonly number[] = SIZES): string {
  return sizes
    .map(size)
    .map((x) => `- **${fmt(x.eventsPerSecond)} events/s**: ${x.limits.length ? x.limits.join("; ") : "none"}.`)
    .join("\n");
}

/** The block docs/production.md holds between its sizing markers (test/unit/production-doc.test.ts). */
export function sizingSection(sizes: readonly number[] = SIZES): string {
  return [sizingTable(sizes), "", sizingLines(sizes), "", "Past a limit:", "", sizingLimits(sizes)].join("\n");
}
