/**
 * `npm run import`'s reading side in Node, without a server: CSV records (quoted commas, line
 * breaks, doubled quotes), byte-level line splitting, the CSV columns, and deterministic ids for
 * lines that come without one (scripts/import/csv.ts, source.ts).
 */
import { describe, expect, it } from "vitest";
import { type CsvItem, createCsvParser } from "../../scripts/import/csv.ts";
import {
  csvColumns,
  csvRecordToEvent,
  ndjsonItem,
  physicalLines,
  type SourceContext,
  sourceItems,
} from "../../scripts/import/source.ts";
import { bytes, collect } from "./import-cli-support.ts";

function csv(text: string): CsvItem[] {
  const parser = createCsvParser(200);
  const out: CsvItem[] = [];
  text.split("\n").forEach((line, n) => {
    const item = parser.line(line, n + 1);
    if (item) out.push(item);
  });
  const last = parser.end();
  if (last) out.push(last);
  return out;
}

const ctx = (): SourceContext => ({ fileKey: "events.csv", ga4Skip: new Set(), dropped: new Map() });

describe("CSV records", () => {
  it("reads quoted fields holding commas, line breaks and doubled quotes, naming each record by its first line", () => {
    expect(csv('a,b,c\n1,"x, y",3\n2,"multi\nline ""quoted""",4\n\n3,"",\n"",,')).toEqual([
      { kind: "record", line: 1, fields: ["a", "b", "c"] },
      { kind: "record", line: 2, fields: ["1", "x, y", "3"] },
      { kind: "record", line: 3, fields: ["2", 'multi\nline "quoted"', "4"] },
      { kind: "record", line: 6, fields: ["3", "", ""] },
      { kind: "record", line: 7, fields: ["", "", ""] },
    ]);
  });

  it("keeps a quote inside an unquoted field as text, and a quoted field may hold only a quote", () => {
    expect(csv('5 "inch",""""\n')).toEqual([{ kind: "record", line: 1, fields: ['5 "inch"', '"'] }]);
  });

  it("reports text after a closing quote and goes on with the next line", () => {
    expect(csv('1,"bad"x,5\n2,ok,6')).toEqual([
      { kind: "error", line: 1, message: 'unexpected "x" after a closing quote' },
      { kind: "record", line: 2, fields: ["2", "ok", "6"] },
    ]);
  });

  it("reports a quote never closed, at the end of the file or once it has run past the record bound", () => {
    expect(csv('1,ok\n2,"never\nclosed')).toEqual([
      { kind: "record", line: 1, fields: ["1", "ok"] },
      { kind: "error", line: 2, message: "a quoted field opened here is never closed" },
    ]);
    const long = `1,"${"x".repeat(150)}\n${"y".repeat(100)}\n3,after`;
    expect(csv(long)).toEqual([
      {
        kind: "error",
        line: 1,
        message: "a quoted field opened here is still open after 200 characters (unterminated quote?)",
      },
      { kind: "record", line: 3, fields: ["3", "after"] },
    ]);
  });
});

describe("physical lines", () => {
  it("splits bytes into numbered lines across chunk boundaries, a character split between chunks included", async () => {
    const euro = new TextEncoder().encode("€"); // three bytes
    const lines = await collect(
      physicalLines(bytes(["a\r\nb", euro.subarray(0, 1), euro.subarray(1), "c\n\n", "last"])),
    );
    expect(lines).toEqual([
      { line: 1, text: "a" },
      { line: 2, text: "b€c" },
      { line: 3, text: "" },
      { line: 4, text: "last" },
    ]);
  });

  it("reports a line that is not UTF-8 or is too long, and goes on", async () => {
    const lines = await collect(
      physicalLines(
        bytes(["ok\n", new Uint8Array([0xff, 0x41, 0x0a]), "x".repeat(40), "y".repeat(40), "\nfine\n"]),
        64,
      ),
    );
    expect(lines).toEqual([
      { line: 1, text: "ok" },
      { line: 2, problem: "is not valid UTF-8" },
      { line: 3, problem: "is longer than 64 bytes" },
      { line: 4, text: "fine" },
    ]);
  });
});

describe("CSV columns", () => {
  it("takes our field names, custom_dimensions.<key> and custom_metrics.<key>, and needs client_id", () => {
    expect(
      csvColumns(["client_id", " page_url ", "country", "custom_dimensions.plan", "custom_metrics.revenue"]),
    ).toEqual([
      { kind: "field", name: "client_id" },
      { kind: "field", name: "page_url" },
      { kind: "field", name: "country" },
      { kind: "dimension", key: "plan" },
      { kind: "metric", key: "revenue" },
    ]);
    expect(csvColumns(["client_id", "pageurl"])).toMatchObject({
      error: expect.stringMatching(
        /^column "pageurl" is not an import field; columns are property_id, user_id, event_type, page_url/,
      ),
    });
    expect(csvColumns(["client_id", "city", "city"])).toEqual({ error: 'column "city" appears twice' });
    expect(csvColumns(["page_url"])).toEqual({
      error: "a client_id column is required (import has no request to derive one from)",
    });
  });

  it("turns cells into typed fields: empty cells absent, metrics numbers (true/false 1/0), timestamps in digits numbers", () => {
    const columns = csvColumns([
      "client_id",
      "event_timestamp",
      "custom_dimensions.plan",
      "custom_metrics.revenue",
      "custom_metrics.vip",
      "custom_metrics.bad",
      "page_title",
    ]);
    if ("error" in columns) throw new Error(columns.error);
    expect(csvRecordToEvent(columns, ["c1", "1706781600", "007", "-1.5e2", "true", "n/a", ""])).toEqual({
      client_id: "c1",
      event_timestamp: 1706781600,
      custom_dimensions: { plan: "007" },
      // Not a number: left as text, so the server's answer names the field.
      custom_metrics: { revenue: -150, vip: 1, bad: "n/a" },
    });
    expect(csvRecordToEvent(columns, ["c1", "2024-02-01T10:00:00Z", "", "", "", "", "A, B"])).toEqual({
      client_id: "c1",
      event_timestamp: "2024-02-01T10:00:00Z",
      page_title: "A, B",
    });
  });

  it("converts a whole CSV file, records spanning lines named by their first line, short rows refused", async () => {
    const text = [
      "client_id,event_type,page_url,page_title",
      'c1,pageview,https://example.com/a,"Hello, world"',
      'c2,pageview,https://example.com/b,"two',
      'lines"',
      "c3,pageview",
      "c4,signup,https://example.com/c,",
    ].join("\n");
    const lines = physicalLines(bytes([text]));
    const items = await collect(sourceItems(lines, "csv", ctx()));
    expect(items.map((i) => [i.kind, i.line])).toEqual([
      ["event", 2],
      ["event", 3],
      ["rejected", 5],
      ["event", 6],
    ]);
    expect(items[2]).toMatchObject({ code: "invalid_csv", message: "line 5: has 2 fields; the header has 4" });
    const first = JSON.parse((items[0] as { json: string }).json);
    expect(first).toEqual({
      event_id: expect.stringMatching(/^imp-[0-9a-f]{32}$/),
      client_id: "c1",
      event_type: "pageview",
      page_url: "https://example.com/a",
      page_title: "Hello, world",
    });
  });

  it("stops the file on a header naming no import field: every row would fail alike", async () => {
    const lines = physicalLines(bytes(["client_id,url\nc1,https://example.com/\n"]));
    await expect(collect(sourceItems(lines, "csv", ctx()))).rejects.toThrow(
      /^CSV header \(line 1\): column "url" is not an import field/,
    );
  });
});

describe("event ids for lines without one", () => {
  it("derives the same id from the same file, line and text, and another from any other", () => {
    const id = (text: string, line: number, fileKey = "events.ndjson") => {
      const item = ndjsonItem(text, line, { ...ctx(), fileKey });
      return item?.kind === "event" ? (JSON.parse(item.json) as { event_id: string }).event_id : undefined;
    };
    const line = '{"client_id":"c1","event_type":"pageview","page_url":"https://example.com/"}';
    expect(id(line, 7)).toMatch(/^imp-[0-9a-f]{32}$/);
    expect(id(line, 7)).toBe(id(line, 7));
    expect(new Set([id(line, 7), id(line, 8), id(line, 7, "other.ndjson"), id(line.replace("c1", "c2"), 7)]).size).toBe(
      4,
    );
    expect(id('{"event_id":"mine","client_id":"c1"}', 1)).toBe("mine");
  });

  it("sends lines that are not JSON objects as they are, for the server to name, and refuses lines over 32 KB", () => {
    expect(ndjsonItem("{not json", 3, ctx())).toEqual({ kind: "event", line: 3, json: "{not json" });
    expect(ndjsonItem("  ", 4, ctx())).toBeUndefined();
    expect(ndjsonItem(JSON.stringify({ client_id: "c", page_title: "x".repeat(33_000) }), 5, ctx())).toEqual({
      kind: "rejected",
      line: 5,
      code: "event_too_large",
      message: "line 5: exceeds 32768 bytes",
    });
  });
});
