/**
 * What the tracker's browser tests stand on: the fixture folders served over HTTP (placeholders
 * filled in) and the dev stack's ClickHouse.
 */
import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { freePort } from "../../../dev/free-port.ts";
import type { DevStack } from "../../../dev/stack.ts";

export const FIXTURES = import.meta.dirname;

/** The fixture folders over HTTP, on two origins. */
export interface FixtureServer {
  /** `http://localhost:<port>`: a domain of the demo property (and of UA-HASH-1). */
  origin: string;
  /** `http://127.0.0.1:<port>`: the same server as another site, for outbound links. */
  other: string;
  close(): Promise<void>;
}

/**
 * Serves test/e2e/tracker/ with `{{WORKER}}`, `{{OTHER}}`, `{{VERSION}}` and `{{SRI}}` filled in.
 * `.pdf` answers as an attachment, so a click downloads and the page stays.
 */
export async function startFixtureServer(values: {
  WORKER: string;
  VERSION: string;
  SRI: string;
}): Promise<FixtureServer> {
  const port = await freePort();
  const other = `http://127.0.0.1:${port}`;
  const fill: Record<string, string> = { ...values, OTHER: other };
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(FIXTURES, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(FIXTURES) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      if (extname(file) === ".pdf") {
        res.writeHead(200, {
          "Content-Type": "application/pdf",
          "Content-Disposition": 'attachment; filename="report.pdf"',
        });
        res.end("%PDF-1.4\n%fixture\n");
        return;
      }
      res.writeHead(404).end("not found");
      return;
    }
    const html = readFileSync(file, "utf8").replace(/\{\{(\w+)\}\}/g, (_, key: string) => fill[key] ?? "");
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://localhost:${port}`,
    other,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface EventRow {
  event_id: string;
  event_type: string;
  page_path: string;
  page_url: string;
  page_title: string;
  referrer: string;
  client_id: string;
  session_id: string;
  visitor_id_source: string;
  screen_resolution: string;
  viewport_size: string;
  language: string;
  custom_dimensions: Record<string, string>;
  custom_metrics: Record<string, number>;
}

/** Events whose page path starts with `prefix` (each fixture folder has its own). */
export async function eventsUnder(client: ClickHouseClient, prefix: string): Promise<EventRow[]> {
  const result = await client.query({
    query: `SELECT event_id, event_type, page_path, page_url, page_title, referrer, client_id, session_id,
              visitor_id_source, screen_resolution, viewport_size, language, custom_dimensions, custom_metrics
            FROM events WHERE startsWith(page_path, {prefix:String}) ORDER BY received_at, event_type`,
    query_params: { prefix },
    format: "JSONEachRow",
  });
  return result.json<EventRow>();
}

/** The dev stack's ClickHouse, as its writer (the stack's generated password). */
export function clickhouse(stack: DevStack): ClickHouseClient {
  return createClient({ url: stack.clickhouseUrl, ...stack.clickhouseAuth });
}

/** Event types in a stable order, for comparing what arrived regardless of batch order. */
export const sortedTypes = (rows: readonly EventRow[]) => rows.map((r) => r.event_type).sort();
