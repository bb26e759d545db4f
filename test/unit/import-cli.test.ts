/**
 * `npm run import` in Node, without a server: a whole run against a fake endpoint that judges lines
 * with the real import judge (core/ingest/import-line.ts), and the progress line. Its parts:
 * import-cli-source.test.ts (reading files) and import-cli-send.test.ts (chunks and retries).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { judgeImportText } from "../../core/ingest/import-line.ts";
import { describeIssues } from "../../core/issues.ts";
import { createProgress, progressLine } from "../../scripts/import/progress.ts";
import { exitCode, type ImportOptions, runImport } from "../../scripts/import/run.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-import-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
