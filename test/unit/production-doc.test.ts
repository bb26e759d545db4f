/**
 * docs/production.md cannot rot: its sizing block is what bench/sizing-model.ts computes (bench/sizing-table.ts) (regenerate
 * it with `npm run bench:sizing`), and every `npm run <script>` it tells a reader to run exists.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fmt, hourlyJobsCapacity, size, usd } from "../../bench/sizing-model.ts";
import { sizingSection } from "../../bench/sizing-table.ts";

const doc = readFileSync(new URL("../../docs/production.md", import.meta.url), "utf8");
const scripts = Object.keys(
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: object }).scripts,
);

describe("docs/production.md", () => {
  it("holds the sizing tables and limits bench/sizing-model.ts computes", () => {
    const block = /<!-- sizing:start -->\n([\s\S]*?)\n<!-- sizing:end -->/.exec(doc)?.[1];
    expect(block, "the sizing markers are missing").toBeDefined();
    expect(block).toBe(sizingSection());
  });

  it("states the hourly jobs' ceilings bench/sizing-model.ts computes from their budgets", () => {
    const { compaction, warehouse } = hourlyJobsCapacity();
    expect(doc).toContain(
      `keeps up with ~${fmt(compaction)} events/s (compaction) and ~${fmt(warehouse)} (the warehouse)`,
    );
  });

  it("states the packing the model computes for an ingest actor per queue", () => {
    const [mid, top] = [size(100_000), size(500_000)];
    const queueOps = (s: typeof mid) => usd(s.lines.find(([n]) => n.startsWith("Queue operations"))?.[2] ?? 0);
    expect(doc.replace(/\s+/g, " ")).toContain(
      `requests per message stays at ${mid.requestsPerMessage.toFixed(1)} (100K events/s) and ${top.requestsPerMessage.toFixed(1)} (500K) and queue operations cost ${queueOps(mid)}–${queueOps(top)} per billion`,
    );
  });

  it("names only npm scripts that package.json has", () => {
    const named = [...doc.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !scripts.includes(name ?? ""))).toEqual([]);
  });

  it("links only its own headings", () => {
    const anchors = new Set(
      [...doc.matchAll(/^#+ (.+)$/gm)].map((m) =>
        (m[1] ?? "")
          .toLowerCase()
          .replace(/[^\w\s-]/g, "")
          .replace(/\s/g, "-"),
      ),
    );
    const links = [...doc.matchAll(/\]\(#([\w-]+)\)/g)].map((m) => m[1]);
    expect(links.filter((l) => !anchors.has(l ?? ""))).toEqual([]);
  });
});
