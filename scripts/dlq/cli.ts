/**
 * `npm run dlq` (scripts/dlq.ts): its arguments, its calls to the dead-letter routes
 * (workers/ops/dead-letters.ts) and the tables it prints. Kept apart from the entry so tests run
 * it with a fake fetch and without exiting.
 */
import { parseArgs } from "node:util";
import {
  type AuditList,
  AuditListSchema,
  type DeadLetterDetail,
  DeadLetterDetailSchema,
  DeadLetterIdSchema,
  type DeadLetterList,
  DeadLetterListSchema,
  DropAnswerSchema,
  type ReplayAllAnswer,
  ReplayAllAnswerSchema,
  ReplayAnswerSchema,
} from "../../core/ops/dead-letter.ts";

export const USAGE = `Usage: npm run dlq -- <command> [options]

Commands:
  list [--limit n] [--cursor id]     dead letters with their last error (a page; the next page's --cursor is printed)
  show <id>                          one dead letter with its first events (or the start of a body that does not decode)
  replay <id>                        send it back to the events queue (after fixing what failed it)
  replay --all                       replay every one that decodes (the poison ones stay, for drop)
  drop <id> --reason "…"             give its events up; an audit record keeps the summary and the reason
  audit [--limit n]                  replays and drops, newest first

Options:
  --url <url>      Tally's Worker (default http://127.0.0.1:8787)
  --token <token>  the admin token (default $TALLY_ADMIN_TOKEN, else ADMIN_TOKEN in ./.dev.vars)
  --json           print the API's answers as JSON
  --help

Exit codes: 0 done; 1 the server refused or could not be reached; 2 usage.`;

export type Command =
  | { name: "list"; limit?: number; cursor?: string }
  | { name: "show"; id: string }
  | { name: "replay"; id: string }
  | { name: "replay-all" }
  | { name: "drop"; id: string; reason: string }
  | { name: "audit"; limit?: number };

export interface CliOptions {
  command: Command;
  url: string;
  token: string;
  json: boolean;
}

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** ADMIN_TOKEN's value in a .dev.vars text (`KEY=value` lines, optionally quoted). */
export function tokenFromDevVars(text: string): string | undefined {
  const value = /^\s*ADMIN_TOKEN\s*=\s*(.+?)\s*$/m.exec(text)?.[1];
  return value?.replace(/^(["'])(.*)\1$/, "$2") || undefined;
}

function limitOf(value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--limit must be an integer from 1 to ${max}`);
  return n;
}

function idOf(value: string | undefined, command: string): string {
  if (value === undefined) throw new UsageError(`${command} needs a dead letter id (see \`npm run dlq -- list\`)`);
  if (!DeadLetterIdSchema.safeParse(value).success) throw new UsageError(`"${value}" is not a dead letter id`);
  return value;
}

/** The command line as options; `env` and `devVars` supply the token when --token is not given. */
export function parseCli(
  argv: readonly string[],
  env: { TALLY_ADMIN_TOKEN?: string | undefined },
  devVars: () => string | null,
): CliOptions | "help" {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: "string", default: "http://127.0.0.1:8787" },
        token: { type: "string" },
        json: { type: "boolean", default: false },
        all: { type: "boolean", default: false },
        reason: { type: "string" },
        limit: { type: "string" },
        cursor: { type: "string" },
        help: { type: "boolean", default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [name, id, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const command = commandOf(name, id, values);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url ${values.url} is not a URL`);
  }
  const token = values.token ?? (env.TALLY_ADMIN_TOKEN || tokenFromDevVars(devVars() ?? ""));
  if (!token)
    throw new UsageError(
      "no admin token: pass --token, set TALLY_ADMIN_TOKEN, or run `npm run dev` once (it writes .dev.vars)",
    );
  return { command, url: url.origin, token, json: values.json };
}

function commandOf(
  name: string | undefined,
  id: string | undefined,
  values: { all: boolean; reason?: string | undefined; limit?: string | undefined; cursor?: string | undefined },
): Command {
  const noId = (command: string) => {
    if (id !== undefined) throw new UsageError(`${command} takes no id`);
  };
  switch (name) {
    case "list":
      noId("list");
      if (values.cursor !== undefined) idOf(values.cursor, "--cursor");
      return { name: "list", limit: limitOf(values.limit, 200), cursor: values.cursor };
    case "show":
      return { name: "show", id: idOf(id, "show") };
    case "replay":
      if (values.all) {
        noId("replay --all");
        return { name: "replay-all" };
      }
      return { name: "replay", id: idOf(id, "replay") };
    case "drop": {
      const reason = values.reason?.trim();
      if (!reason) throw new UsageError('drop needs --reason "why these events are given up"');
      if (reason.length > 500) throw new UsageError("--reason is at most 500 characters");
      return { name: "drop", id: idOf(id, "drop"), reason };
    }
    case "audit":
      noId("audit");
      return { name: "audit", limit: limitOf(values.limit, 500) };
    case undefined:
      throw new UsageError("a command is required");
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 19);

export function formatList(list: DeadLetterList): string {
  if (list.dead_letters.length === 0) return "No dead letters.";
  const rows = list.dead_letters.map((d) => [
    d.id,
    when(d.dead_lettered_at),
    d.queue,
    String(d.attempts),
    String(d.events),
    clip(d.property_ids.join(",") || "-", 30),
    clip(d.last_error, 80),
  ]);
  const out = table(["ID", "DEAD-LETTERED (UTC)", "QUEUE", "ATTEMPTS", "EVENTS", "PROPERTIES", "LAST ERROR"], rows);
  return list.cursor ? `${out}\n\nMore: npm run dlq -- list --cursor ${list.cursor}` : out;
}

export function formatDetail(d: DeadLetterDetail): string {
  const lines = [
    `id:              ${d.id}`,
    `dead-lettered:   ${d.dead_lettered_at}`,
    `queue:           ${d.queue}`,
    `attempts:        ${d.attempts}`,
    `events:          ${d.events}`,
    `properties:      ${d.property_ids.join(", ") || "-"}`,
    `bytes:           ${d.bytes}`,
    `last error:      ${d.last_error}`,
  ];
  if (d.events_preview)
    lines.push(
      "",
      `first ${d.events_preview.length} of ${d.events} events:`,
      ...d.events_preview.map((e) => JSON.stringify(e)),
    );
  if (d.raw_preview !== undefined) lines.push("", "body (does not decode; first 2 KB):", d.raw_preview);
  return lines.join("\n");
}

export function formatAudit(audit: AuditList): string {
  if (audit.audit.length === 0) return "No replays or drops yet.";
  const rows = audit.audit.map((a) => [when(a.at), a.action, a.id, String(a.events), clip(a.reason ?? "-", 60)]);
  return table(["AT (UTC)", "ACTION", "ID", "EVENTS", "REASON"], rows);
}

export function formatReplayAll(pages: ReplayAllAnswer[]): string {
  const replayed = pages.flatMap((p) => p.replayed);
  const skipped = pages.flatMap((p) => p.skipped);
  const events = pages.reduce((n, p) => n + p.events, 0);
  const lines = [`Replayed ${replayed.length} dead letters (${events} events).`];
  if (skipped.length > 0)
    lines.push(`Left ${skipped.length} that do not decode (drop them with a reason): ${skipped.join(", ")}`);
  return lines.join("\n");
}

/** An answer that is not 2xx, as the error envelope says it. */
export class ApiError extends Error {}

async function request(o: CliOptions, fetchFn: typeof fetch, method: string, path: string, body?: unknown) {
  const url = `${o.url}/api/v1/ops/dead-letters${path}`;
  let res: Response;
  try {
    res = await fetchFn(url, {
      method,
      headers: {
        Authorization: `Bearer ${o.token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ApiError(`cannot reach ${o.url}: ${(error as Error).message} (is the Worker running? --url)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(`${method} ${url} answered ${res.status} with no JSON: ${clip(text, 200)}`);
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(`${res.status} ${error?.code ?? "error"}: ${error?.message ?? clip(text, 200)}`);
  }
  return json;
}

/** Runs one command; prints with `out`. Throws ApiError when the server refuses or cannot be reached. */
export async function runCli(o: CliOptions, fetchFn: typeof fetch, out: (text: string) => void): Promise<void> {
  const c = o.command;
  const print = (json: unknown, human: string) => out(o.json ? JSON.stringify(json, null, 2) : human);
  switch (c.name) {
    case "list": {
      const params = new URLSearchParams();
      if (c.limit) params.set("limit", String(c.limit));
      if (c.cursor) params.set("cursor", c.cursor);
      const list = DeadLetterListSchema.parse(await request(o, fetchFn, "GET", params.size ? `?${params}` : ""));
      return print(list, formatList(list));
    }
    case "show": {
      const detail = DeadLetterDetailSchema.parse(await request(o, fetchFn, "GET", `/${c.id}`));
      return print(detail, formatDetail(detail));
    }
    case "replay": {
      const answer = ReplayAnswerSchema.parse(await request(o, fetchFn, "POST", `/${c.id}/replay`));
      return print(answer, `Replayed ${answer.replayed} (${answer.events} events) into the events queue.`);
    }
    case "replay-all": {
      const pages: ReplayAllAnswer[] = [];
      let cursor: string | null = null;
      do {
        const path: string = `/replay-all${cursor ? `?cursor=${cursor}` : ""}`;
        const page = ReplayAllAnswerSchema.parse(await request(o, fetchFn, "POST", path));
        pages.push(page);
        cursor = page.cursor;
      } while (cursor);
      return print(pages, formatReplayAll(pages));
    }
    case "drop": {
      const answer = DropAnswerSchema.parse(await request(o, fetchFn, "DELETE", `/${c.id}`, { reason: c.reason }));
      return print(
        answer,
        `Dropped ${answer.dropped} (${answer.audit.events} events); audit kept: ${answer.audit.reason}`,
      );
    }
    case "audit": {
      const audit = AuditListSchema.parse(
        await request(o, fetchFn, "GET", `/audit${c.limit ? `?limit=${c.limit}` : ""}`),
      );
      return print(audit, formatAudit(audit));
    }
  }
}
