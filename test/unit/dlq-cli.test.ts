/**
 * `npm run dlq` in Node, without a server: its command line (commands, the token's sources,
 * refusals), the tables it prints, and each command's request against a fake fetch that answers as
 * workers/ops/dead-letters.ts does (its schemas: core/ops/dead-letter.ts), errors included.
 */
import { describe, expect, it } from "vitest";
import type { DeadLetterSummary } from "../../core/ops/dead-letter.ts";
import {
  ApiError,
  type CliOptions,
  formatAudit,
  formatList,
  parseCli,
  runCli,
  tokenFromDevVars,
  UsageError,
} from "../../scripts/dlq/cli.ts";

const TOKEN = "t".repeat(40);
const parse = (argv: string[], devVars: string | null = null, env: { TALLY_ADMIN_TOKEN?: string } = {}) =>
  parseCli(argv, env, () => devVars);
const withToken = (...argv: string[]) => parse([...argv, "--token", TOKEN]) as CliOptions;

const summary: DeadLetterSummary = {
  id: "0123456789abcdef0123456789abcdef",
  dead_lettered_at: "2026-12-02T10:15:30.123Z",
  queue: "events",
  attempts: 11,
  last_error: "Error: Network connection lost.",
  events: 3,
  property_ids: ["UA-1"],
  bytes: 337,
};

describe("the command line", () => {
  it("reads each command", () => {
    expect(withToken("list").command).toEqual({ name: "list" });
    expect(withToken("list", "--limit", "5", "--cursor", "abc").command).toEqual({
      name: "list",
      limit: 5,
      cursor: "abc",
    });
    expect(withToken("show", "abc").command).toEqual({ name: "show", id: "abc" });
    expect(withToken("replay", "abc").command).toEqual({ name: "replay", id: "abc" });
    expect(withToken("replay", "--all").command).toEqual({ name: "replay-all" });
    expect(withToken("drop", "abc", "--reason", "  bad data  ").command).toEqual({
      name: "drop",
      id: "abc",
      reason: "bad data",
    });
    expect(withToken("audit", "--limit", "10").command).toEqual({ name: "audit", limit: 10 });
    expect(parse(["--help"])).toBe("help");
  });

  it("defaults the URL and takes the token from --token, then TALLY_ADMIN_TOKEN, then .dev.vars", () => {
    expect(withToken("list")).toMatchObject({ url: "http://127.0.0.1:8787", token: TOKEN, json: false });
    expect(
      parse(["list", "--url", "https://tally.example.com/", "--json"], null, { TALLY_ADMIN_TOKEN: "env" }),
    ).toMatchObject({
      url: "https://tally.example.com",
      token: "env",
      json: true,
    });
    expect(parse(["list"], "CLICKHOUSE_URL=x\nADMIN_TOKEN=from-file\n", { TALLY_ADMIN_TOKEN: "" })).toMatchObject({
      token: "from-file",
    });
    expect(tokenFromDevVars('ADMIN_TOKEN="quoted"')).toBe("quoted");
    expect(tokenFromDevVars("OTHER=1")).toBeUndefined();
  });

  it.each([
    [[], /a command is required/],
    [["purge"], /unknown command "purge"/],
    [["show"], /show needs a dead letter id/],
    [["show", "../etc"], /not a dead letter id/],
    [["drop", "abc"], /drop needs --reason/],
    [["drop", "abc", "--reason", "   "], /drop needs --reason/],
    [["drop", "abc", "--reason", "x".repeat(501)], /at most 500/],
    [["replay", "abc", "--all"], /takes no id/],
    [["list", "--limit", "0"], /--limit must be an integer from 1 to 200/],
    [["list", "--bogus"], /Unknown option '--bogus'/],
    [["show", "a", "b"], /unexpected arguments: b/],
    [["list", "--url", "nope"], /not a URL/],
  ])("refuses %j", (argv, message) => {
    expect(() => withToken(...argv)).toThrow(message);
    expect(() => withToken(...argv)).toThrow(UsageError);
  });

  it("refuses to run without any token, saying where one comes from", () => {
    expect(() => parse(["list"])).toThrow(/no admin token: pass --token, set TALLY_ADMIN_TOKEN/);
  });
});

describe("the tables", () => {
  it("lists dead letters one a line, with the next page's command", () => {
    const text = formatList({ dead_letters: [summary], cursor: summary.id });
    const [header, row, , more] = text.split("\n");
    expect(header).toMatch(/^ID\s+DEAD-LETTERED \(UTC\)\s+QUEUE\s+ATTEMPTS\s+EVENTS\s+PROPERTIES\s+LAST ERROR$/);
    expect(row).toMatch(
      /^0123456789abcdef0123456789abcdef\s+2026-12-02 10:15:30\s+events\s+11\s+3\s+UA-1\s+Error: Network/,
    );
    // Columns line up under their headers.
    expect(row?.indexOf("events")).toBe(header?.indexOf("QUEUE"));
    expect(more).toBe(`More: npm run dlq -- list --cursor ${summary.id}`);
    expect(formatList({ dead_letters: [], cursor: null })).toBe("No dead letters.");
  });

  it("clips a long error and shows the audit with reasons", () => {
    const long = formatList({ dead_letters: [{ ...summary, last_error: "x".repeat(200) }], cursor: null });
    expect(long).toContain(`${"x".repeat(79)}…`);
    const audit = formatAudit({
      audit: [
        { ...summary, action: "dropped", at: "2026-12-02T11:00:00.000Z", reason: "poison", body_sha256: "ab" },
        { ...summary, id: "other", action: "replayed", at: "2026-12-02T10:30:00.000Z", body_sha256: "cd" },
      ],
    });
    expect(audit.split("\n").slice(1)).toEqual([
      expect.stringMatching(/^2026-12-02 11:00:00\s+dropped\s+0123456789abcdef0123456789abcdef\s+3\s+poison$/),
      expect.stringMatching(/^2026-12-02 10:30:00\s+replayed\s+other\s+3\s+-$/),
    ]);
  });
});

describe("the requests", () => {
  function fake(answers: { status: number; body: unknown }[]) {
    const seen: { method: string; url: string; auth: string | null; body: string | null }[] = [];
    const fetchFn: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({
        method: init?.method ?? "GET",
        url: String(input),
        auth: headers.get("authorization"),
        body: (init?.body as string | undefined) ?? null,
      });
      const next = answers.shift() ?? {
        status: 500,
        body: { error: { code: "x", message: "no more answers", status: 500 } },
      };
      return Response.json(next.body, { status: next.status });
    };
    return { fetchFn, seen };
  }

  it("drops with the reason as JSON and the admin token", async () => {
    const { fetchFn, seen } = fake([
      {
        status: 200,
        body: {
          dropped: "abc",
          audit: {
            ...summary,
            id: "abc",
            body_sha256: "ff",
            reason: "bad data",
            dropped_at: "2026-12-02T11:00:00.000Z",
          },
        },
      },
    ]);
    const out: string[] = [];
    await runCli(withToken("drop", "abc", "--reason", "bad data"), fetchFn, (t) => out.push(t));
    expect(seen).toEqual([
      {
        method: "DELETE",
        url: "http://127.0.0.1:8787/api/v1/ops/dead-letters/abc",
        auth: `Bearer ${TOKEN}`,
        body: '{"reason":"bad data"}',
      },
    ]);
    expect(out).toEqual(["Dropped abc (3 events); audit kept: bad data"]);
  });

  it("replays all, page after page, until the server gives no cursor", async () => {
    const { fetchFn, seen } = fake([
      { status: 202, body: { replayed: ["a", "b"], skipped: [], events: 5, cursor: "b" } },
      { status: 202, body: { replayed: ["c"], skipped: ["p"], events: 1, cursor: null } },
    ]);
    const out: string[] = [];
    await runCli(withToken("replay", "--all"), fetchFn, (t) => out.push(t));
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "POST http://127.0.0.1:8787/api/v1/ops/dead-letters/replay-all",
      "POST http://127.0.0.1:8787/api/v1/ops/dead-letters/replay-all?cursor=b",
    ]);
    expect(out[0]).toBe("Replayed 3 dead letters (6 events).\nLeft 1 that do not decode (drop them with a reason): p");
  });

  it("prints the raw answer with --json", async () => {
    const list = { dead_letters: [summary], cursor: null };
    const { fetchFn, seen } = fake([{ status: 200, body: list }]);
    const out: string[] = [];
    await runCli(withToken("list", "--limit", "2", "--json"), fetchFn, (t) => out.push(t));
    expect(seen[0]?.url).toBe("http://127.0.0.1:8787/api/v1/ops/dead-letters?limit=2");
    expect(JSON.parse(out[0] ?? "")).toEqual(list);
  });

  it("turns the error envelope, a non-JSON answer and an unreachable server into clear errors", async () => {
    const notFound = fake([
      { status: 404, body: { error: { code: "dead_letter_not_found", message: "no dead letter abc", status: 404 } } },
    ]);
    await expect(runCli(withToken("show", "abc"), notFound.fetchFn, () => {})).rejects.toThrow(
      new ApiError("404 dead_letter_not_found: no dead letter abc"),
    );
    const html: typeof fetch = async () => new Response("<html>bad gateway</html>", { status: 502 });
    await expect(runCli(withToken("audit"), html, () => {})).rejects.toThrow(
      /answered 502 with no JSON: <html>bad gateway/,
    );
    const down: typeof fetch = async () => Promise.reject(new TypeError("fetch failed"));
    await expect(runCli(withToken("list"), down, () => {})).rejects.toThrow(
      /cannot reach http:\/\/127.0.0.1:8787: fetch failed \(is the Worker running\? --url\)/,
    );
  });
});
