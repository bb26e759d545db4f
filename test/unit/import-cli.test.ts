/**
 * `npm run import`'s parts in Node, without a server: CSV (quoted commas, line breaks, doubled
 * quotes), byte-level line splitting, the CSV columns, deterministic ids, chunking, mapping the
 * server's chunk-relative line numbers back to the file, retries, and a whole run against a fake
 * endpoint that judges lines with the real import judge (core/ingest/import-line.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { judgeImportText } from "../../core/ingest/import-line.ts";
import { describeIssues } from "../../core/issues.ts";
import { type CsvItem, createCsvParser } from "../../scripts/import/csv.ts";
import { createProgress, progressLine } from "../../scripts/import/progress.ts";
import { exitCode, type ImportOptions, runImport } from "../../scripts/import/run.ts";
import {
  backoffMs,
  type Chunk,
  chunks,
  ImportStopped,
  retryAfterMs,
  sendChunk,
  toFileLines,
} from "../../scripts/import/send.ts";
import {
  csvColumns,
  csvRecordToEvent,
  ndjsonItem,
  physicalLines,
  type SourceContext,
  type SourceItem,
  sourceItems,
} from "../../scripts/import/source.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-import-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

async function* bytes(parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? new TextEncoder().encode(p) : p;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
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

describe("chunks and line numbers", () => {
  const ev = (line: number, json = `{"n":${line}}`): SourceItem => ({ kind: "event", line, json });
  const bad = (line: number): SourceItem => ({ kind: "rejected", line, code: "invalid_csv", message: `line ${line}` });

  it("cuts at N events or the character bound, carrying local rejections with the chunk they were met in", async () => {
    async function* items() {
      yield* [ev(1), bad(2), ev(3), ev(4), ev(5), bad(6), ev(7), bad(8)];
    }
    const got = await collect(chunks(items(), 2));
    expect(got.map((c: Chunk) => [c.lines, c.local.map((l) => l.line)])).toEqual([
      [[1, 3], [2]],
      [[4, 5], []],
      [[7], [6, 8]],
    ]);
    async function* big() {
      yield* [ev(1, "x".repeat(10)), ev(2, "y".repeat(10)), ev(3, "z".repeat(10))];
    }
    expect((await collect(chunks(big(), 100, 25))).map((c) => c.lines)).toEqual([[1, 2], [3]]);
  });

  it("maps the server's chunk-relative line numbers, in the field and in the message, to the file's", () => {
    const errors = toFileLines(
      [
        { line: 1, code: "invalid_json", message: "line 1: is not valid JSON" },
        { line: 3, code: "invalid_event", message: "line 3.page_url: must be a URL; line 3.page_title: too long" },
        { line: 2, code: "property_not_found", message: "events[1].property_id: line 9 of something" },
      ],
      [10, 12, 15],
    );
    expect(errors).toEqual([
      { line: 10, code: "invalid_json", message: "line 10: is not valid JSON" },
      { line: 15, code: "invalid_event", message: "line 15.page_url: must be a URL; line 15.page_title: too long" },
      { line: 12, code: "property_not_found", message: "events[1].property_id: line 9 of something" },
    ]);
  });
});

describe("retries", () => {
  it("reads Retry-After as seconds or an HTTP date, and backs off 1 s doubling to 60 s otherwise", () => {
    expect(retryAfterMs("7", 0)).toBe(7000);
    expect(retryAfterMs(new Date(60_000).toUTCString(), 30_000)).toBe(30_000);
    expect(retryAfterMs(null, 0)).toBeUndefined();
    expect(retryAfterMs("soon", 0)).toBeUndefined();
    expect([1, 2, 3, 7, 8].map((a) => backoffMs(a, undefined))).toEqual([1000, 2000, 4000, 60_000, 60_000]);
    expect(backoffMs(1, 3000)).toBe(3000);
    expect(backoffMs(1, 3_600_000)).toBe(300_000);
  });

  const chunk: Chunk = { events: ['{"a":1}', '{"a":2}'], lines: [40, 42], local: [] };
  const answer = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

  it("retries a chunk on 503, 429 and lost connections, honouring Retry-After, and maps its answer", async () => {
    const waits: number[] = [];
    const replies: (() => Response)[] = [
      () => answer({ error: { code: "queue_unavailable", message: "retry" } }, 503, { "Retry-After": "2" }),
      () => {
        throw new TypeError("fetch failed", { cause: new Error("ECONNRESET") });
      },
      () => answer({ error: { code: "rate_limited", message: "slow down" } }, 429, { "Retry-After": "5" }),
      () =>
        answer({ accepted: 1, rejected: 1, errors: [{ line: 2, code: "invalid_event", message: "line 2.x: bad" }] }),
    ];
    const bodies: string[] = [];
    const result = await sendChunk(chunk, {
      url: "http://tally.test",
      propertyId: "UA-1",
      key: "tk_x",
      maxAttempts: 5,
      fetch: async (url, init) => {
        expect(String(url)).toBe("http://tally.test/api/v1/import?property=UA-1");
        expect(new Headers(init?.headers).get("authorization")).toBe("Bearer tk_x");
        bodies.push(String(init?.body));
        const reply = replies.shift();
        if (!reply) throw new Error("no more replies");
        return reply();
      },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(waits).toEqual([2000, 2000, 5000]);
    expect(new Set(bodies)).toEqual(new Set(['{"a":1}\n{"a":2}\n']));
    expect(result).toEqual({
      accepted: 1,
      rejected: 1,
      errors: [{ line: 42, code: "invalid_event", message: "line 42.x: bad" }],
    });
  });

  it("stops at once on a refusal retrying cannot fix, and after the last attempt otherwise", async () => {
    const options = (status: number, calls: { n: number }) => ({
      url: "http://tally.test",
      propertyId: "UA-1",
      key: "tk_x",
      maxAttempts: 3,
      fetch: async () => {
        calls.n++;
        return answer({ error: { code: "unauthorized", message: "bad key" } }, status);
      },
      sleep: async () => {},
    });
    const refused = { n: 0 };
    await expect(sendChunk(chunk, options(401, refused))).rejects.toThrow(
      new ImportStopped("the server refused the import: 401 unauthorized: bad key"),
    );
    expect(refused.n).toBe(1);
    const down = { n: 0 };
    await expect(sendChunk(chunk, options(502, down))).rejects.toThrow(/^gave up on lines 40-42 after 3 attempts: 502/);
    expect(down.n).toBe(3);
  });
});

/** POST /api/v1/import in miniature: the real line judge, the real answer shape, 500-line chunks aside. */
function fakeServer(log: { requests: number; lines: number }): typeof fetch {
  return async (_url, init) => {
    log.requests++;
    const errors: { line: number; code: string; message: string }[] = [];
    let accepted = 0;
    String(init?.body)
      .split("\n")
      .forEach((text, k) => {
        if (text.trim() === "") return;
        log.lines++;
        const options = { nowMs: Date.now(), newId: () => "x", enforceWindow: false, bodyBytes: text.length };
        const { candidate } = judgeImportText(text, 0, k + 1, "UA-CLI-1", options);
        if (candidate.ok) accepted++;
        else errors.push({ line: k + 1, code: candidate.code, message: describeIssues(candidate.issues) });
      });
    return Response.json({ property_id: "UA-CLI-1", accepted, rejected: errors.length, errors });
  };
}

describe("a whole run", () => {
  const options = (file: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({
    file,
    format: "ndjson",
    propertyId: "UA-CLI-1",
    url: "http://tally.test",
    key: "tk_x",
    batchLines: 100,
    maxErrors: 10,
    ga4Skip: new Set(),
    fromLine: 1,
    ...extra,
  });
  const event = (n: number) =>
    JSON.stringify({
      client_id: `v${n % 9}`,
      event_type: "pageview",
      page_url: `https://example.com/${n}`,
      event_timestamp: "2024-03-01",
    });

  it("sends 1,000 lines in chunks and lists the bad ones by file line, in file order, local and server ones mixed", async () => {
    const lines = Array.from({ length: 1_000 }, (_, n) => {
      const line = n + 1;
      if (line === 150) return "{not json";
      if (line === 333) return JSON.stringify({ event_type: "pageview", page_url: "https://example.com/" });
      if (line === 777)
        return JSON.stringify({ client_id: "c", event_type: "x", page_url: "https://e.com/", p: "x".repeat(40_000) });
      if (line === 500) return "";
      return event(line);
    });
    const file = join(dir, "run.ndjson");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const log = { requests: 0, lines: 0 };
    const progress: string[] = [];
    const summary = await runImport(options(file), {
      fetch: fakeServer(log),
      progress: { write: (t) => progress.push(t), isTTY: false },
    });
    expect(summary).toMatchObject({ sent: 998, accepted: 996, rejected: 2, rejected_locally: 1, chunks: 10 });
    expect(log).toEqual({ requests: 10, lines: 998 });
    expect(summary.errors).toEqual([
      { line: 150, code: "invalid_json", message: "line 150: is not valid JSON" },
      { line: 333, code: "invalid_event", message: "line 333.client_id: is required for import" },
      { line: 777, code: "event_too_large", message: "line 777: exceeds 32768 bytes" },
    ]);
    expect(summary.resume_from_line).toBeUndefined();
    expect(exitCode(summary, false)).toBe(0);
    expect(exitCode(summary, true)).toBe(1);
    expect(progress.at(-1)).toMatch(/^import: \[#{24}\] 100% .* 996 accepted {2}3 rejected/);
  });

  it("stops when the server refuses, says where to resume, and --from-line resumes there", async () => {
    const file = join(dir, "resume.ndjson");
    writeFileSync(file, `${Array.from({ length: 250 }, (_, n) => event(n + 1)).join("\n")}\n`);
    const log = { requests: 0, lines: 0 };
    const server = fakeServer(log);
    let calls = 0;
    const flaky: typeof fetch = (url, init) =>
      ++calls === 2 ? Promise.resolve(new Response("{}", { status: 403 })) : server(url, init);
    const stopped = await runImport(options(file), { fetch: flaky });
    expect(stopped).toMatchObject({ accepted: 100, resume_from_line: 101, stopped: expect.stringMatching(/403/) });
    expect(exitCode(stopped, false)).toBe(2);
    const resumed = await runImport(options(file, { fromLine: 101 }), { fetch: server });
    expect(resumed).toMatchObject({ sent: 150, accepted: 150, chunks: 2 });
    expect(log.lines).toBe(250);
  });

  it("exits 1 when every line was refused", async () => {
    const file = join(dir, "bad.ndjson");
    writeFileSync(file, "{}\n[]\n");
    const summary = await runImport(options(file), { fetch: fakeServer({ requests: 0, lines: 0 }) });
    expect(summary).toMatchObject({ accepted: 0, rejected: 2 });
    expect(exitCode(summary, false)).toBe(1);
  });
});

describe("progress", () => {
  const state = {
    bytes: 12_300_000,
    totalBytes: 32_000_000,
    accepted: 12_000,
    rejected: 3,
    skipped: 0,
    sent: 12_003,
    elapsedMs: 1_429,
  };

  it("draws bytes, counts and events per second on one line", () => {
    expect(progressLine(state)).toBe(
      "[#########---------------]  38%  12.3/32.0 MB  12,000 accepted  3 rejected  8,400 events/s",
    );
  });

  it("redraws in place with \\r on a terminal, and prints whole lines at most every 5 s elsewhere", () => {
    let t = 0;
    const tty: string[] = [];
    const onTty = createProgress({ write: (s) => tty.push(s), isTTY: true }, () => t);
    const log: string[] = [];
    const onLog = createProgress({ write: (s) => log.push(s), isTTY: false }, () => t);
    for (t = 0; t <= 10_000; t += 50) {
      onTty.update(state);
      onLog.update(state);
    }
    onTty.finish(state);
    onLog.finish(state);
    expect(tty.every((s) => s.startsWith("\r") || s === "\n")).toBe(true);
    expect(tty).toHaveLength(101 + 2);
    // At 0, 5 and 10 s; the final state equals the last line drawn, so it is not repeated.
    expect(log).toHaveLength(3);
    expect(log.every((s) => s.startsWith("import: [") && s.endsWith("\n"))).toBe(true);
  });
});
