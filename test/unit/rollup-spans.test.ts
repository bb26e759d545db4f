import { describe, expect, it } from "vitest";
import { alignedCover, dayBlocks, SPANS } from "../../core/query/rollup-spans.ts";
import { DAY_MS } from "../../core/time.ts";

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const days = (from: string, to: string) =>
  dayBlocks(day(from), day(to)).map((b) => [new Date(b.start).toISOString().slice(0, 10), b.span]);

describe("dayBlocks: the fewest epoch-aligned blocks that cover whole days exactly", () => {
  it("covers 30 days with 8 blocks, each aligned to its span", () => {
    // 2026-10-27 is epoch day 20,753.
    expect(days("2026-10-27", "2026-11-26")).toEqual([
      ["2026-10-27", 1],
      ["2026-10-28", 2],
      ["2026-10-30", 4],
      ["2026-11-03", 8],
      ["2026-11-11", 8],
      ["2026-11-19", 4],
      ["2026-11-23", 2],
      ["2026-11-25", 1],
    ]);
  });

  it.each([1, 2, 7, 30, 31, 90, 365])("tiles %i days without gaps or overlaps, aligned", (n) => {
    for (let start = day("2026-01-01"); start < day("2026-03-15"); start += 5 * DAY_MS) {
      const blocks = dayBlocks(start, start + n * DAY_MS);
      let at = start;
      for (const b of blocks) {
        expect(b.start).toBe(at);
        expect((b.start / DAY_MS) % b.span).toBe(0);
        expect(SPANS).toContain(b.span);
        at += b.span * DAY_MS;
      }
      expect(at).toBe(start + n * DAY_MS);
      expect(blocks.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n + 1)) + Math.floor(n / 64));
    }
  });

  it("is empty for an empty range and refuses part days", () => {
    expect(dayBlocks(day("2026-11-01"), day("2026-11-01"))).toEqual([]);
    expect(() => dayBlocks(day("2026-11-01") + 3_600_000, day("2026-11-03"))).toThrow(/whole UTC days/);
  });
});

it("alignedCover widens a range to whole blocks of the longest span", () => {
  const [from, to] = alignedCover(day("2026-11-20"), day("2026-11-23"));
  expect((from / DAY_MS) % 64).toBe(0);
  expect((to / DAY_MS) % 64).toBe(0);
  expect(from).toBeLessThanOrEqual(day("2026-11-20"));
  expect(to).toBeGreaterThanOrEqual(day("2026-11-23"));
  expect(to - from).toBe(64 * DAY_MS);
});
