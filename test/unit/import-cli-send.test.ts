/**
 * `npm run import`'s sending side in Node, without a server: chunking, mapping the server's
 * chunk-relative line numbers back to the file, and retries (scripts/import/send.ts).
 */
import { describe, expect, it } from "vitest";
import { MAX_IMPORT_BYTES, MAX_IMPORT_LINES } from "../../core/ingest/import-limits.ts";
import {
  backoffMs,
  type Chunk,
  chunkBody,
  chunks,
  ImportStopped,
  MAX_CHUNK_BYTES,
  retryAfterMs,
  sendChunk,
  toFileLines,
} from "../../scripts/import/send.ts";
import { ndjsonItem, type SourceItem } from "../../scripts/import/source.ts";
import { collect } from "./import-cli-support.ts";

describe("chunks and line numbers", () => {
  const ev = (line: number, json = `{"n":${line}}`): SourceItem => ({ kind: "event", line, json });
  const bad = (line: number): SourceItem => ({ kind: "rejected", line, code: "invalid_csv", message: `line ${line}` });

  it("cuts at N events or the byte bound, carrying local rejections with the chunk they were met in", async () => {
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
    // 5 characters, 10 bytes (and a newline): two fit in 25 bytes, three would in 25 characters.
    async function* accented() {
      yield* [ev(1, "ééééé"), ev(2, "ééééé"), ev(3, "ééééé")];
    }
    expect((await collect(chunks(accented(), 100, 25))).map((c) => c.lines)).toEqual([[1, 2], [3]]);
  });

  it("sends 50,000 lines of 12 KB in bodies under the server's MAX_IMPORT_BYTES, none lost", async () => {
    // 600 MB in all, so one request of 50,000 lines would be refused (413); in three-byte characters,
    // so counting characters instead of bytes would let three times the bytes into a chunk.
    const line = JSON.stringify({ event_id: "e", page_title: "語".repeat(4_000) });
    const item = ndjsonItem(line, 1, { fileKey: "big.ndjson", ga4Skip: new Set(), dropped: new Map() });
    if (item?.kind !== "event") throw new Error(`the CLI does not send the line: ${JSON.stringify(item)}`);
    const json = item.json;
    expect(Buffer.byteLength(json) * MAX_IMPORT_LINES).toBeGreaterThan(MAX_IMPORT_BYTES);
    async function* lines() {
      for (let n = 1; n <= MAX_IMPORT_LINES; n++) yield ev(n, json);
    }
    const sizes: number[] = [];
    let next = 1;
    for await (const c of chunks(lines(), MAX_IMPORT_LINES)) {
      sizes.push(Buffer.byteLength(chunkBody(c)));
      expect(c.lines[0]).toBe(next);
      next += c.lines.length;
    }
    expect(next - 1).toBe(MAX_IMPORT_LINES);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    // Full chunks, not one line each: all but the last hold as many lines as fit.
    expect(Math.min(...sizes.slice(0, -1))).toBeGreaterThan(MAX_CHUNK_BYTES - Buffer.byteLength(json) - 1);
    expect(MAX_CHUNK_BYTES).toBeLessThan(MAX_IMPORT_BYTES);
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
